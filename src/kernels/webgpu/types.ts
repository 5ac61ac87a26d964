// The few WebGPU names the kernels use, declared structurally: the library has no DOM lib and no
// dependency on @webgpu/types, and a GPUDevice from a browser, from Node's `webgpu` package (Dawn)
// or from Deno fits these shapes.

/** The full `GPUBuffer` shape the kernels use. @internal */
export interface GpuBuffer {
  /** Size in bytes. */
  readonly size: number;
  /** The usage flags it was created with (`GPUBufferUsage`). */
  readonly usage: number;
  /** Frees the buffer's memory. */
  destroy(): void;
  /** Maps a MAP_READ buffer for reading (internal use). */
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>;
  /** The mapped range (internal use). */
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  /** Ends a mapping (internal use). */
  unmap(): void;
}

/** The full `GPUDevice` shape the kernels use. @internal */
export interface GpuDevice {
  /** The device's limits (`GPUSupportedLimits`). */
  readonly limits: Readonly<Record<string, number>>;
  /** The device's queue. */
  readonly queue: GpuQueueLike;
  /** Resolves when the device is lost. */
  readonly lost: Promise<{ readonly message: string; readonly reason?: string }>;
  /** Creates a buffer. */
  createBuffer(descriptor: { size: number; usage: number; mappedAtCreation?: boolean; label?: string }): GpuBuffer;
  /** Compiles WGSL (internal use). */
  createShaderModule(descriptor: { code: string; label?: string }): unknown;
  /** Builds a compute pipeline (internal use). */
  createComputePipeline(descriptor: unknown): GpuPipelineLike;
  /** Builds a compute pipeline asynchronously (internal use). */
  createComputePipelineAsync?(descriptor: unknown): Promise<GpuPipelineLike>;
  /** Builds a bind group (internal use). */
  createBindGroup(descriptor: unknown): unknown;
  /** Starts recording commands (internal use). */
  createCommandEncoder(descriptor?: unknown): GpuEncoderLike;
  /** Pushes an error scope (internal use). */
  pushErrorScope(filter: string): void;
  /** Pops an error scope (internal use). */
  popErrorScope(): Promise<{ readonly message: string } | null>;
  /** Releases the device. */
  destroy(): void;
}

/** `GPUQueue`. @internal */
export interface GpuQueueLike {
  /** Uploads bytes into a buffer. */
  writeBuffer(buffer: GpuBuffer, offset: number, data: ArrayBufferLike | ArrayBufferView, dataOffset?: number, size?: number): void;
  /** Submits recorded commands. */
  submit(commands: unknown[]): void;
  /** Resolves when submitted work is done. */
  onSubmittedWorkDone(): Promise<void>;
}

/** `GPUComputePipeline`. @internal */
export interface GpuPipelineLike {
  /** The layout of bind group `index`. */
  getBindGroupLayout(index: number): unknown;
}

/** `GPUCommandEncoder`. @internal */
export interface GpuEncoderLike {
  /** Starts a compute pass. */
  beginComputePass(descriptor?: unknown): GpuPassLike;
  /** Copies bytes between buffers. */
  copyBufferToBuffer(source: GpuBuffer, sourceOffset: number, destination: GpuBuffer, destinationOffset: number, size: number): void;
  /** Ends recording. */
  finish(): unknown;
}

/** `GPUComputePassEncoder`. @internal */
export interface GpuPassLike {
  /** Sets the pipeline. */
  setPipeline(pipeline: GpuPipelineLike): void;
  /** Sets a bind group. */
  setBindGroup(index: number, group: unknown): void;
  /** Dispatches workgroups. */
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  /** Ends the pass. */
  end(): void;
}

/** `GPUAdapter`. @internal */
export interface GpuAdapter {
  /** The adapter's limits. */
  readonly limits: Readonly<Record<string, number>>;
  /** Vendor, architecture, device, description (`GPUAdapterInfo`), where the implementation has it. */
  readonly info?: Readonly<Record<string, unknown>>;
  /** Requests a device. */
  requestDevice(descriptor?: unknown): Promise<GpuDevice>;
}

/** `GPU`. @internal */
export interface Gpu {
  /** Requests an adapter; resolves to null when none is available. */
  requestAdapter(options?: unknown): Promise<GpuAdapter | null>;
}

/** `GPUBufferUsage` flags. @internal */
export const USAGE = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

/** `GPUMapMode.READ`. @internal */
export const MAP_READ = 0x0001;

/**
 * A WebGPU buffer (`GPUBuffer`) holding updates or a result. Any `GPUBuffer` fits; the library
 * uses more of it internally.
 */
export interface GpuBufferLike {
  /** Size in bytes. */
  readonly size: number;
  /** The usage flags it was created with (`GPUBufferUsage`). */
  readonly usage: number;
  /** Frees the buffer's memory. */
  destroy(): void;
}

/** A WebGPU device (`GPUDevice`), e.g. from `adapter.requestDevice()`. Any `GPUDevice` fits. */
export interface GpuDeviceLike {
  /** The device's limits (`GPUSupportedLimits`). */
  readonly limits: object;
  /** Releases the device. */
  destroy(): void;
}

/** `navigator.gpu`, or what `create([])` of Node's `webgpu` package returns. Any `GPU` fits. */
export interface GpuLike {
  /**
   * Requests an adapter; resolves to null when none is available.
   *
   * @param options - `GPURequestAdapterOptions` (initWebGPU passes `powerPreference`).
   */
  requestAdapter(options?: object): Promise<object | null>;
}

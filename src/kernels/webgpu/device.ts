import { RobustAggError } from '../../core/errors.js';
import { readOptions } from '../../core/options.js';
import { BLOCKMAX, CENTRE, COMBINE, GATHER, GRAM, ROWMAX, SCALES, SELECT } from './shaders.js';
import { webgpuState } from './state.js';
import { MAP_READ, USAGE, type Gpu, type GpuAdapter, type GpuBuffer, type GpuDevice, type GpuDeviceLike, type GpuEncoderLike, type GpuLike, type GpuPipelineLike } from './types.js';

/** Options of {@link initWebGPU}. */
export interface InitWebGPUOptions {
  /** A device to use (e.g. your TF.js or training loop's own), instead of requesting one. */
  device?: GpuDeviceLike;
  /**
   * Where to request an adapter: `navigator.gpu` by default (browsers, Deno); in Node the object
   * `create([])` of the `webgpu` package returns.
   */
  gpu?: GpuLike;
  /** Passed to `requestAdapter`: `'high-performance'` (default) or `'low-power'`. */
  powerPreference?: 'high-performance' | 'low-power';
}

/** What {@link initWebGPU} set up. */
export interface WebGPUInfo {
  /** The adapter's vendor (e.g. `'nvidia'`, `'google'` for SwiftShader), `''` when not reported. */
  readonly vendor: string;
  /** The adapter's architecture (e.g. `'hopper'`, `'swiftshader'`), `''` when not reported. */
  readonly architecture: string;
  /** The adapter's device description, `''` when not reported. */
  readonly description: string;
  /** True for a CPU emulation (SwiftShader, lavapipe): its timings say nothing about a GPU. */
  readonly emulated: boolean;
  /** The largest storage buffer binding the device accepts, in bytes (bounds n·d·4). */
  readonly maxStorageBufferBindingSize: number;
  /** Where the device came from. */
  readonly source: 'device option' | 'gpu option' | 'navigator.gpu';
}

const KERNELS = { BLOCKMAX, ROWMAX, CENTRE, SCALES, GRAM, COMBINE, SELECT, GATHER } as const;
/** The name of a WGSL kernel. @internal */
export type KernelName = keyof typeof KERNELS;

let pipelines: Partial<Record<KernelName, GpuPipelineLike>> = {};
let pipelineGeneration = -1;
let ownedDevice = false;
let info: WebGPUInfo | null = null;

function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function describeAdapter(raw: Readonly<Record<string, unknown>> | undefined, device: GpuDevice, source: WebGPUInfo['source']): WebGPUInfo {
  const vendor = text(raw?.vendor);
  const architecture = text(raw?.architecture);
  const description = text(raw?.description) || text(raw?.device);
  const all = `${vendor} ${architecture} ${description}`.toLowerCase();
  return {
    vendor,
    architecture,
    description,
    emulated: /swiftshader|llvmpipe|lavapipe|software|warp/.test(all),
    maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize ?? 134217728,
    source,
  };
}

/**
 * Sets up the WebGPU kernels: takes the device you pass, or requests an adapter and a device
 * (with the adapter's largest buffer limits) from `gpu` or `navigator.gpu`, and compiles every
 * WGSL kernel on it. Resolves to what it found, or to null when there is no WebGPU here (Node
 * without a `gpu` option, an adapter request that finds none): never throws for a missing GPU,
 * so code can fall back. After it resolves, `setKernelBackend('webgpu')` makes the `gpu…` rules
 * run on it. Calling it again replaces the device (one device at a time).
 *
 * @param options - see {@link InitWebGPUOptions}: `device`, `gpu`, `powerPreference`.
 * @returns the adapter's description, or null when no adapter is available.
 * @category Kernels
 * @example
 * ```ts
 * import { initWebGPU, setKernelBackend } from 'robust-agg';
 *
 * const gpu = await initWebGPU(); // navigator.gpu in a browser; null in plain Node
 * if (gpu === null) console.log('no WebGPU adapter: the gpu… rules run on the CPU kernels');
 * else {
 *   setKernelBackend('webgpu');
 *   console.log(`WebGPU on ${gpu.vendor} ${gpu.architecture}${gpu.emulated ? ' (CPU emulation)' : ''}`);
 * }
 * ```
 */
export async function initWebGPU(options?: InitWebGPUOptions): Promise<WebGPUInfo | null> {
  const rule = 'initWebGPU';
  const o = readOptions(rule, options ?? {}, ['device', 'gpu', 'powerPreference']);
  const power = o.powerPreference ?? 'high-performance';
  if (power !== 'high-performance' && power !== 'low-power') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: powerPreference must be 'high-performance' or 'low-power', got ${String(power)}`);
  }
  let device: GpuDevice;
  let found: WebGPUInfo;
  if (o.device !== undefined) {
    if (o.device === null || typeof (o.device as unknown as GpuDevice).createBuffer !== 'function') {
      throw new RobustAggError('INVALID_OPTION', `${rule}: device must be a GPUDevice`);
    }
    device = o.device as unknown as GpuDevice;
    const adapterInfo = (device as unknown as { adapterInfo?: Readonly<Record<string, unknown>> }).adapterInfo;
    found = describeAdapter(adapterInfo, device, 'device option');
    releaseWebGPU();
    ownedDevice = false;
  } else {
    const gpu = (o.gpu ?? (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu) as Gpu | undefined;
    if (gpu === undefined || gpu === null) return null;
    if (typeof gpu.requestAdapter !== 'function') throw new RobustAggError('INVALID_OPTION', `${rule}: gpu must have requestAdapter()`);
    let adapter: GpuAdapter | null;
    try {
      adapter = await gpu.requestAdapter({ powerPreference: power });
    } catch {
      adapter = null;
    }
    if (adapter === null || adapter === undefined) return null;
    const limits = adapter.limits;
    device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
      },
    });
    found = describeAdapter(adapter.info, device, o.gpu !== undefined ? 'gpu option' : 'navigator.gpu');
    releaseWebGPU();
    ownedDevice = true;
  }
  webgpuState.device = device;
  webgpuState.generation++;
  info = found;
  // A lost device (driver reset, destroy()) is forgotten: the backend returns to 'auto' and the
  // gpu… rules run on the CPU kernels until initWebGPU is called again.
  void device.lost?.then(() => {
    if (webgpuState.device === device) {
      ownedDevice = false;
      releaseWebGPU();
    }
  });
  // Compile every kernel now (in parallel where the implementation can), so that a kernel the
  // device rejects fails here rather than in the middle of a rule.
  const names = Object.keys(KERNELS) as KernelName[];
  const generation = webgpuState.generation;
  try {
    if (typeof device.createComputePipelineAsync === 'function') {
      const compiled = await Promise.all(names.map((name) => device.createComputePipelineAsync?.(describePipeline(device, name)) as Promise<GpuPipelineLike>));
      if (webgpuState.generation === generation) {
        pipelineGeneration = generation;
        names.forEach((name, i) => (pipelines[name] = compiled[i]));
      }
    } else {
      device.pushErrorScope('validation');
      for (const name of names) pipeline(name);
      const error = await device.popErrorScope();
      if (error !== null) throw new Error(error.message);
    }
  } catch (e) {
    releaseWebGPU();
    throw new RobustAggError('UNSUPPORTED', `${rule}: the WGSL kernels do not compile on this device: ${(e as Error).message}`);
  }
  return found;
}

/**
 * What {@link initWebGPU} found, or null when no device is set up.
 *
 * @category Kernels
 * @example
 * ```ts
 * import { webgpuInfo } from 'robust-agg';
 * console.log(webgpuInfo()); // null until initWebGPU() found an adapter
 * ```
 */
export function webgpuInfo(): WebGPUInfo | null {
  return webgpuState.device === null ? null : info;
}

/**
 * Forgets the WebGPU device (destroying it when {@link initWebGPU} requested it; a device you
 * passed is left to you) and returns the backend to `'auto'` if it was `'webgpu'`.
 *
 * @category Kernels
 * @example
 * ```ts
 * import { getKernelBackend, releaseWebGPU } from 'robust-agg';
 * releaseWebGPU();
 * console.log(getKernelBackend()); // 'auto'
 * ```
 */
export function releaseWebGPU(): void {
  const device = webgpuState.device;
  if (device !== null && ownedDevice) device.destroy();
  webgpuState.device = null;
  webgpuState.selected = false;
  webgpuState.generation++;
  pipelines = {};
  info = null;
}

/** The device, or throws: for the GPU paths. @internal */
export function requireDevice(rule: string): GpuDevice {
  const device = webgpuState.device;
  if (device === null) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: no WebGPU device: await initWebGPU() first`);
  }
  return device;
}

/** The compiled pipeline of a kernel on the current device. @internal */
export function pipeline(name: KernelName): GpuPipelineLike {
  const device = requireDevice('webgpu');
  if (pipelineGeneration !== webgpuState.generation) {
    pipelines = {};
    pipelineGeneration = webgpuState.generation;
  }
  let p = pipelines[name];
  if (p === undefined) {
    p = device.createComputePipeline(describePipeline(device, name));
    pipelines[name] = p;
  }
  return p;
}

function describePipeline(device: GpuDevice, name: KernelName): unknown {
  const module = device.createShaderModule({ code: KERNELS[name](), label: `robust-agg ${name}` });
  return { layout: 'auto', compute: { module, entryPoint: 'main' }, label: `robust-agg ${name}` };
}

/**
 * One call's GPU work: buffers it creates (destroyed by `close`) and the commands it records,
 * submitted in batches. @internal
 */
export class GpuCall {
  readonly device: GpuDevice;
  private readonly temporaries: GpuBuffer[] = [];
  private encoder: GpuEncoderLike | null = null;

  constructor(rule: string) {
    this.device = requireDevice(rule);
  }

  /** A storage buffer of at least `bytes` (rounded up to 4, at least 16), destroyed by close. */
  storage(bytes: number, keep = false): GpuBuffer {
    const size = Math.max(16, Math.ceil(bytes / 4) * 4);
    const b = this.device.createBuffer({ size, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST });
    if (!keep) this.temporaries.push(b);
    return b;
  }

  /** A storage buffer holding `data`. */
  upload(data: Uint32Array | Float32Array | Int32Array, keep = false): GpuBuffer {
    const b = this.storage(data.byteLength, keep);
    if (data.byteLength > 0) this.device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
    return b;
  }

  /** A uniform buffer of the 12 u32 fields of the kernels' struct P (missing fields 0). */
  params(fields: Partial<Record<'n' | 'd' | 'm' | 'nb' | 'a' | 'b' | 'c' | 'e' | 'gx', number>>): GpuBuffer {
    const data = new Uint32Array(12);
    const order = ['n', 'd', 'm', 'nb', 'a', 'b', 'c', 'e', 'gx'] as const;
    order.forEach((k, i) => {
      data[i] = fields[k] ?? 0;
    });
    const b = this.device.createBuffer({ size: 48, usage: USAGE.UNIFORM | USAGE.COPY_DST });
    this.temporaries.push(b);
    this.device.queue.writeBuffer(b, 0, data.buffer, 0, 48);
    return b;
  }

  private enc(): GpuEncoderLike {
    if (this.encoder === null) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  /** Records one dispatch of `name` with `buffers` bound at 0, 1, 2, … in order. */
  run(name: KernelName, buffers: GpuBuffer[], x: number, y = 1): void {
    if (x === 0 || y === 0) return;
    const p = pipeline(name);
    const group = this.device.createBindGroup({
      layout: p.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const pass = this.enc().beginComputePass();
    pass.setPipeline(p);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y);
    pass.end();
  }

  /** Records a copy between buffers. */
  copy(from: GpuBuffer, fromOffset: number, to: GpuBuffer, toOffset: number, bytes: number): void {
    if (bytes > 0) this.enc().copyBufferToBuffer(from, fromOffset, to, toOffset, bytes);
  }

  /** Submits what was recorded. */
  submit(): void {
    if (this.encoder !== null) {
      this.device.queue.submit([this.encoder.finish()]);
      this.encoder = null;
    }
  }

  /** Submits, then reads `bytes` of each buffer back to the host (one mapping round trip for all). */
  async read(...reads: Array<[GpuBuffer, number]>): Promise<ArrayBuffer[]> {
    const staging = reads.map(([, bytes]) => {
      const b = this.device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 4) * 4), usage: USAGE.MAP_READ | USAGE.COPY_DST });
      this.temporaries.push(b);
      return b;
    });
    reads.forEach(([buffer, bytes], i) => this.copy(buffer, 0, staging[i], 0, Math.ceil(bytes / 4) * 4));
    this.submit();
    await Promise.all(staging.map((b) => b.mapAsync(MAP_READ)));
    return staging.map((b, i) => {
      const out = b.getMappedRange().slice(0, reads[i][1]);
      b.unmap();
      return out;
    });
  }

  /** Destroys the temporaries (after their work: WebGPU defers a destroy until queued work is done). */
  close(): void {
    this.submit();
    for (const b of this.temporaries) b.destroy();
    this.temporaries.length = 0;
  }
}

/** Splits `groups` workgroups over x and y (≤ 65535 each). @internal */
export function grid(groups: number): [number, number] {
  const gx = Math.min(groups, 65535);
  return [gx, Math.ceil(groups / Math.max(1, gx))];
}

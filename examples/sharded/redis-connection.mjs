// A Redis connection for BullMQ: ioredis when it is installed (BullMQ's usual client, an optional
// peer of BullMQ 6), otherwise a minimal RESP2 client of our own with the `send`/`connected`
// shape that BullMQ 6 adapts (it wraps any such object in its own adapter: scripts, transactions,
// blocking pops and reconnects are BullMQ's code, not ours). The fallback exists because this
// repository's devDependencies do not include ioredis; a deployment should install ioredis.
import net from 'node:net';

/** Parses RESP2 replies from a byte buffer; returns [value, nextOffset] or null when incomplete. */
function parseReply(buf, at) {
  if (at >= buf.length) return null;
  const end = buf.indexOf('\r\n', at);
  if (end < 0) return null;
  const type = String.fromCharCode(buf[at]);
  const line = buf.toString('utf8', at + 1, end);
  const next = end + 2;
  switch (type) {
    case '+':
      return [line, next];
    case '-': {
      const err = new Error(line);
      err.isReplyError = true;
      return [err, next];
    }
    case ':':
      return [Number(line), next];
    case '$': {
      const len = Number(line);
      if (len < 0) return [null, next];
      if (buf.length < next + len + 2) return null;
      return [buf.toString('utf8', next, next + len), next + len + 2];
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return [null, next];
      const out = [];
      let pos = next;
      for (let i = 0; i < count; i++) {
        const r = parseReply(buf, pos);
        if (r === null) return null;
        out.push(r[0]);
        pos = r[1];
      }
      return [out, pos];
    }
    default:
      throw new Error(`redis: unexpected reply type ${JSON.stringify(type)}`);
  }
}

function encodeCommand(command, args) {
  const parts = [command, ...args].map((a) => (Buffer.isBuffer(a) ? a : Buffer.from(String(a), 'utf8')));
  const chunks = [Buffer.from(`*${parts.length}\r\n`)];
  for (const p of parts) chunks.push(Buffer.from(`$${p.length}\r\n`), p, Buffer.from('\r\n'));
  return Buffer.concat(chunks);
}

/** A minimal RESP2 client: one socket, replies matched to commands in order. */
export class MiniRedisClient {
  constructor({ host = '127.0.0.1', port = 6379 } = {}) {
    this.host = host;
    this.port = port;
    this.url = `redis://${host}:${port}`;
    this.connected = false;
    this.onconnect = null;
    this.onclose = null;
    this.onerror = null;
    this.socket = null;
    this.queue = [];
    this.buffer = Buffer.alloc(0);
  }

  connect() {
    if (this.connected) return Promise.resolve();
    this.closing = false;
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ host: this.host, port: this.port });
      socket.setNoDelay(true);
      this.socket = socket;
      socket.once('connect', () => {
        this.connected = true;
        this.onconnect?.();
        resolve();
      });
      socket.on('data', (chunk) => this.#receive(chunk));
      socket.on('error', (err) => {
        if (!this.connected) reject(err);
        this.onerror?.(err);
      });
      socket.on('close', () => {
        const was = this.connected;
        this.connected = false;
        const err = new Error('Connection closed');
        for (const p of this.queue.splice(0)) p.reject(err);
        // Reported without an error object: BullMQ's adapter then reconnects quietly instead of
        // emitting 'error' on an emitter whose listeners a closed Queue has already removed.
        if (was) this.onclose?.();
      });
    });
  }

  #receive(chunk) {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let at = 0;
    for (;;) {
      const r = parseReply(this.buffer, at);
      if (r === null) break;
      at = r[1];
      const p = this.queue.shift();
      if (p === undefined) continue;
      if (r[0] instanceof Error && r[0].isReplyError) p.reject(r[0]);
      else p.resolve(r[0]);
    }
    this.buffer = at === this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(at);
  }

  send(command, args = []) {
    if (!this.connected || this.socket === null) return Promise.reject(new Error('Connection closed'));
    if (String(command).toUpperCase() === 'QUIT') this.closing = true; // the server will close the socket
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject });
      this.socket.write(encodeCommand(command, args));
    });
  }

  close() {
    this.closing = true;
    this.socket?.end();
    this.socket?.destroy();
  }

  disconnect() {
    this.close();
  }

  duplicate() {
    return new MiniRedisClient({ host: this.host, port: this.port });
  }
}

/**
 * A connection for BullMQ's Queue, Worker and QueueEvents: an ioredis instance when ioredis is
 * installed, else a {@link MiniRedisClient}. Each call makes a new connection.
 */
export async function redisConnection({ host = '127.0.0.1', port }) {
  try {
    const { Redis } = await import('ioredis');
    return new Redis({ host, port, maxRetriesPerRequest: null });
  } catch {
    return new MiniRedisClient({ host, port });
  }
}

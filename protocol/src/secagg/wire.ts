import { ProtocolError } from '../errors';

/**
 * Minimal binary writer/reader for protocol messages: little-endian integers, length-prefixed
 * byte strings and UTF-8 strings, raw 32-bit word vectors. The reader bounds-checks every read
 * and names the field that ran past the end.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export class Writer {
  #chunks: Uint8Array[] = [];
  #size = 0;

  #push(b: Uint8Array): this {
    this.#chunks.push(b);
    this.#size += b.length;
    return this;
  }
  u8(v: number): this {
    return this.#push(Uint8Array.of(v));
  }
  u32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    return this.#push(b);
  }
  /** Bytes with a 32-bit length prefix. */
  bytes(b: Uint8Array): this {
    return this.u32(b.length).#push(b);
  }
  /** Fixed-length bytes (the reader knows the length). */
  raw(b: Uint8Array): this {
    return this.#push(b);
  }
  str(s: string): this {
    return this.bytes(encoder.encode(s));
  }
  words(w: Uint32Array): this {
    return this.u32(w.length).#push(new Uint8Array(w.buffer, w.byteOffset, w.byteLength));
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.#size);
    let off = 0;
    for (const c of this.#chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

export class Reader {
  #off = 0;
  readonly #view: DataView;

  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
  ) {
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  #need(n: number, field: string): void {
    if (this.#off + n > this.buf.length) {
      throw new ProtocolError('MalformedMessage', `${this.what}: ${field} runs past the end`);
    }
  }
  get offset(): number {
    return this.#off;
  }
  u8(field: string): number {
    this.#need(1, field);
    return this.#view.getUint8(this.#off++);
  }
  u32(field: string): number {
    this.#need(4, field);
    const v = this.#view.getUint32(this.#off, true);
    this.#off += 4;
    return v;
  }
  raw(n: number, field: string): Uint8Array {
    this.#need(n, field);
    const b = this.buf.slice(this.#off, this.#off + n);
    this.#off += n;
    return b;
  }
  bytes(field: string, max = 1 << 30): Uint8Array {
    const n = this.u32(`${field} length`);
    if (n > max) throw new ProtocolError('MalformedMessage', `${this.what}: ${field} is too long`);
    return this.raw(n, field);
  }
  str(field: string): string {
    try {
      return decoder.decode(this.bytes(field, 1024));
    } catch (cause) {
      if (cause instanceof ProtocolError) throw cause;
      throw new ProtocolError('MalformedMessage', `${this.what}: ${field} is not UTF-8`, { cause });
    }
  }
  words(field: string): Uint32Array {
    const n = this.u32(`${field} length`);
    this.#need(4 * n, field);
    const out = new Uint32Array(n);
    new Uint8Array(out.buffer).set(this.buf.subarray(this.#off, this.#off + 4 * n));
    this.#off += 4 * n;
    return out;
  }
  /** Count of a repeated field, bounded so a hostile length cannot allocate unbounded memory. */
  count(field: string, max: number): number {
    const n = this.u32(`${field} count`);
    if (n > max) {
      throw new ProtocolError(
        'MalformedMessage',
        `${this.what}: ${field} count ${n} exceeds ${max}`,
      );
    }
    return n;
  }
  end(): void {
    if (this.#off !== this.buf.length) {
      throw new ProtocolError(
        'MalformedMessage',
        `${this.what}: ${this.buf.length - this.#off} trailing bytes`,
      );
    }
  }
}

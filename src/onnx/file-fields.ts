/**
 * Walking the protobuf fields of a file (an .onnx) without reading it whole: positional reads through a small window,
 * so that a walk that skips a model's weights costs neither the time nor the memory of reading them.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ModelLoadError } from '../errors.ts';

/** `walk` over the fields of the file at `path`, which is open only during the call. */
export function withFileFields<T>(path: string, walk: (file: FileFields) => T): T {
  const fd = openSync(path, 'r');
  try {
    return walk(new FileFields(fd, fstatSync(fd).size, path));
  } finally {
    closeSync(fd);
  }
}

/**
 * The fields of protobuf messages in a file, read through a small window of positional reads: a field's number, and
 * for a length-delimited one (a message, bytes) where its bytes start and how many, which are skipped unread.
 */
export class FileFields {
  private window = Buffer.alloc(0);
  private windowAt = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly label: string,
  ) {}

  /**
   * The fields of the message at [start, end): each field's number, where its value starts (`at`; for a
   * length-delimited one, its bytes, `length` of them) and the bytes [from, to) that hold the whole field, tag included.
   */
  *fields(start: number, end: number): Generator<{ field: number; at: number; length?: number; from: number; to: number }> {
    let pos = start;
    while (pos < end) {
      const from = pos;
      const [tag, afterTag] = this.varint(pos);
      const wire = tag % 8;
      const field = Math.floor(tag / 8);
      if (wire === 2) {
        const [length, at] = this.varint(afterTag);
        pos = at + length;
        if (pos > end) throw new ModelLoadError(`${this.label}: not an ONNX model (a field runs past its message)`);
        yield { field, at, length, from, to: pos };
        continue;
      }
      // (varint, 64-bit and 32-bit values: skipped; ONNX has no groups)
      if (wire === 0) pos = this.varint(afterTag)[1];
      else if (wire === 1) pos = afterTag + 8;
      else if (wire === 5) pos = afterTag + 4;
      else throw new ModelLoadError(`${this.label}: not an ONNX model (wire type ${wire})`);
      if (pos > end) throw new ModelLoadError(`${this.label}: not an ONNX model (a field runs past its message)`);
      yield { field, at: afterTag, from, to: pos };
    }
  }

  /** `length` bytes at `at`. */
  bytes(at: number, length: number): Uint8Array {
    if (at + length > this.size) throw new ModelLoadError(`${this.label}: not an ONNX model (truncated: ${at + length} bytes of ${this.size} read)`);
    if (at < this.windowAt || at + length > this.windowAt + this.window.byteLength) this.read(at, Math.min(Math.max(length, WINDOW_BYTES), this.size - at));
    return this.window.subarray(at - this.windowAt, at - this.windowAt + length);
  }

  /** The varint at `pos` and the position after it. */
  private varint(pos: number): [number, number] {
    let value = 0;
    for (let i = 0; i < 10; i++) {
      const byte = this.bytes(pos + i, 1)[0]!;
      value += (byte & 0x7f) * 2 ** (7 * i);
      if (byte < 0x80) return [value, pos + i + 1];
    }
    throw new ModelLoadError(`${this.label}: not an ONNX model (a varint of more than 10 bytes)`);
  }

  /** Reads the window: `length` bytes at `at`, all in the file. */
  private read(at: number, length: number): void {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const got = readSync(this.fd, buf, done, length - done, at + done);
      if (got <= 0) throw new ModelLoadError(`${this.label}: short read at byte ${at + done}`);
      done += got;
    }
    this.window = buf;
    this.windowAt = at;
  }
}

/** Bytes read at a time by FileFields (a graph's node and value entries lie together; weights are skipped). */
const WINDOW_BYTES = 16 * 1024;

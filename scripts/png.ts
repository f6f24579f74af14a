/**
 * A small PNG reader (8-bit greyscale, grey+alpha, RGB and RGBA, not interlaced: what Chromium writes) and the
 * pixel statistics that tell a rendered page from a blank one. No dependency: zlib inflates the image data.
 */
import { inflateSync } from 'node:zlib';

export interface Image {
  width: number;
  height: number;
  /** RGBA, 4 bytes per pixel, row-major. */
  rgba: Uint8Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a),
    pb = Math.abs(p - b),
    pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decodes a PNG file's bytes; throws on a format it does not read. */
export function decodePng(buf: Uint8Array): Image {
  if (!SIGNATURE.every((b, i) => buf[i] === b)) throw new Error('not a PNG file');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let width = 0,
    height = 0,
    colorType = 0;
  const idat: Uint8Array[] = [];
  for (let off = 8; off < buf.length; ) {
    const len = view.getUint32(off);
    const type = String.fromCharCode(...buf.subarray(off + 4, off + 8));
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = view.getUint32(off + 8);
      height = view.getUint32(off + 12);
      const depth = data[8];
      colorType = data[9]!;
      if (depth !== 8 || data[12] !== 0 || ![0, 2, 4, 6].includes(colorType))
        throw new Error(`unsupported PNG (depth ${depth}, colour type ${colorType}, interlace ${data[12]})`);
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType as 0 | 2 | 4 | 6];
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = pixels.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? row[i - channels]! : 0;
      const b = prev[i]!;
      const c = i >= channels ? prev[i - channels]! : 0;
      const x = src[i]!;
      row[i] = (filter === 0 ? x : filter === 1 ? x + a : filter === 2 ? x + b : filter === 3 ? x + ((a + b) >> 1) : x + paeth(a, b, c)) & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const s = p * channels;
    const [r, g, b, al] =
      channels === 1
        ? [pixels[s]!, pixels[s]!, pixels[s]!, 255]
        : channels === 2
          ? [pixels[s]!, pixels[s]!, pixels[s]!, pixels[s + 1]!]
          : channels === 3
            ? [pixels[s]!, pixels[s + 1]!, pixels[s + 2]!, 255]
            : [pixels[s]!, pixels[s + 1]!, pixels[s + 2]!, pixels[s + 3]!];
    rgba.set([r, g, b, al], p * 4);
  }
  return { width, height, rgba };
}

export interface PixelStats {
  width: number;
  height: number;
  /** Share of pixels that differ from the most common colour (the background). */
  inkShare: number;
  /** Distinct colours after reducing each channel to 4 bits. */
  colours: number;
  /** Pixels of a clearly saturated colour (chart marks; text and rules are grey). */
  saturated: number;
}

/** Statistics that distinguish a rendered page from a blank or one-colour one. */
export function pixelStats(img: Image): PixelStats {
  const counts = new Map<number, number>();
  let saturated = 0;
  const n = img.width * img.height;
  for (let p = 0; p < n; p++) {
    const r = img.rgba[p * 4]!,
      g = img.rgba[p * 4 + 1]!,
      b = img.rgba[p * 4 + 2]!;
    const q = ((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4);
    counts.set(q, (counts.get(q) ?? 0) + 1);
    if (Math.max(r, g, b) - Math.min(r, g, b) > 80) saturated++;
  }
  const background = Math.max(...counts.values());
  return { width: img.width, height: img.height, inkShare: n > 0 ? 1 - background / n : 0, colours: counts.size, saturated };
}

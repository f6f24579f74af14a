/**
 * The HTML report renders: headless Chromium takes a screenshot that is not blank (ink, colours, coloured chart
 * marks). Skipped where /usr/bin/chromium (Debian package `chromium`) is absent.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../src/report/rows.ts';
import { writeReportFiles } from '../../src/report/write.ts';
import { CHROMIUM, checkScreenshot, screenshot } from '../../scripts/screenshot-report.ts';
import { decodePng, pixelStats } from '../../scripts/png.ts';
import { posterPoints } from './points.ts';

/** A PNG of `w`×`h` RGB pixels from `pixel(x, y)` (filter 0 rows), for testing the reader. */
function encodePng(w: number, h: number, pixel: (x: number, y: number) => [number, number, number]): Uint8Array {
  const raw = Buffer.alloc(h * (w * 3 + 1));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set(pixel(x, y), y * (w * 3 + 1) + 1 + x * 3);
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    return Buffer.concat([len, Buffer.from(type, 'ascii'), data, Buffer.alloc(4)]); // CRC is not checked by the reader
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

describe('PNG reader and blank check', () => {
  it('reads pixels back and tells a blank image from a drawn one', () => {
    const blank = decodePng(encodePng(40, 30, () => [255, 255, 255]));
    expect([blank.width, blank.height, ...blank.rgba.subarray(0, 4)]).toEqual([40, 30, 255, 255, 255, 255]);
    expect(pixelStats(blank)).toMatchObject({ inkShare: 0, colours: 1, saturated: 0 });
    const drawn = decodePng(encodePng(40, 30, (x, y) => (x < 20 && y < 10 ? [76, 120, 168] : [255, 255, 255])));
    expect([...drawn.rgba.subarray(0, 3)]).toEqual([76, 120, 168]);
    expect(pixelStats(drawn)).toMatchObject({ colours: 2, saturated: 200 });
    expect(pixelStats(drawn).inkShare).toBeCloseTo(200 / 1200, 6);
  });
});

describe.skipIf(!existsSync(CHROMIUM))('HTML report in headless Chromium', () => {
  it('renders the table and both charts (screenshot not blank)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'report-shot-'));
    await writeReportFiles(buildReport(posterPoints()), out, ['html'], 'poster.sqlite');
    const png = join(out, 'report.png');
    screenshot(join(out, 'report.html'), png);
    const check = checkScreenshot(png);
    expect(check.reasons).toEqual([]);
    expect(check.blank).toBe(false);
    expect([check.width, check.height]).toEqual([1200, 1600]);
  });
});

/**
 * Renders the offline HTML report in headless Chromium and checks the screenshot is not blank: there is ink, many
 * colours, and saturated chart marks (the coloured points and fronts of both charts).
 *
 *   node bin/run-ts.mjs scripts/screenshot-report.ts out/report.html [out/report.png]
 *
 * Needs the Debian package `chromium` (/usr/bin/chromium, or $CHROMIUM). Prints the pixel statistics; exits 1 when
 * the page looks blank, 2 when Chromium is missing or fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodePng, pixelStats, type PixelStats } from './png.ts';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export interface ScreenshotCheck extends PixelStats {
  png: string;
  blank: boolean;
  reasons: string[];
}

/** Takes a screenshot of `html` into `png` with headless Chromium (no network, throwaway profile). */
export function screenshot(html: string, png: string, size = { width: 1200, height: 1600 }): void {
  const profile = mkdtempSync(join(tmpdir(), 'report-chromium-'));
  try {
    const r = spawnSync(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        `--screenshot=${resolve(png)}`,
        `--window-size=${size.width},${size.height}`,
        pathToFileURL(resolve(html)).href,
      ],
      { encoding: 'utf8', timeout: 90_000 },
    );
    if (r.error) throw new Error(`${CHROMIUM}: ${r.error.message}`);
    if (!existsSync(png)) throw new Error(`${CHROMIUM} wrote no screenshot (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Whether a screenshot shows a rendered report: some ink, more than a few colours, coloured chart marks. */
export function checkScreenshot(png: string): ScreenshotCheck {
  const stats = pixelStats(decodePng(readFileSync(png)));
  const reasons: string[] = [];
  if (stats.inkShare < 0.02) reasons.push(`only ${(100 * stats.inkShare).toFixed(2)}% of pixels differ from the background`);
  if (stats.colours < 16) reasons.push(`only ${stats.colours} distinct colours`);
  if (stats.saturated < 500) reasons.push(`only ${stats.saturated} saturated pixels (no chart marks?)`);
  return { ...stats, png, blank: reasons.length > 0, reasons };
}

async function main(argv: string[]): Promise<number> {
  const [html, png = (argv[0] ?? 'report.html').replace(/\.html?$/i, '') + '.png'] = argv;
  if (!html) {
    process.stderr.write('usage: node bin/run-ts.mjs scripts/screenshot-report.ts REPORT.html [OUT.png]\n');
    return 2;
  }
  if (!existsSync(CHROMIUM)) {
    process.stderr.write(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM)\n`);
    return 2;
  }
  rmSync(png, { force: true });
  try {
    screenshot(html, png);
  } catch (e) {
    process.stderr.write(`screenshot failed: ${(e as Error).message}\n`);
    return 2;
  }
  const c = checkScreenshot(png);
  process.stdout.write(
    `${c.png}: ${c.width}×${c.height}, ink ${(100 * c.inkShare).toFixed(1)}%, ${c.colours} colours, ${c.saturated} saturated pixels: ${c.blank ? `BLANK (${c.reasons.join('; ')})` : 'rendered'}\n`,
  );
  return c.blank ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  process.exitCode = await main(process.argv.slice(2));
}

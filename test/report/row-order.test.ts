/**
 * The report's rows and its charts' panels in one order of names whatever the process's locale (compareText in
 * src/text-order.ts: English collation), where rows sorted by localeCompare followed LANG (under sv_SE a model 'ärlig'
 * came after 'Zeta', under en_US before it) and the Pareto charts' panels followed vega's sort by code units ('Zeta'
 * before 'alpha'), another order than the table's.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderCharts } from '../../src/report/charts.ts';
import { buildReport } from '../../src/report/rows.ts';
import { compareText } from '../../src/text-order.ts';
import { fakePoint, storePoints } from './points.ts';

const BIN = resolve(__dirname, '../../bin/compress.mjs');
const dir = mkdtempSync(join(tmpdir(), 'row-order-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MODELS = ['Zeta', 'ärlig', 'alpha'];
const points = () =>
  MODELS.flatMap((model, i) => [
    fakePoint({ model, label: 'baseline', bytes: 4e7, glue: 0.8 }, 2 * i),
    fakePoint({ model, label: 'Östra', bytes: 3e7, glue: 0.79, speedup: 1.2 }, 2 * i + 1),
  ]);
/** The models of a Markdown table's rows, in order. */
const tableModels = (md: string) => [...md.matchAll(/^\| (Zeta|ärlig|alpha) \| /gm)].map((m) => m[1]);

describe('the order of rows and panels', () => {
  it('compareText: English collation, code units where it ties two texts', () => {
    expect(['Zeta', 'ärlig', 'beta', 'alpha', 'Alpha'].sort(compareText)).toEqual(['alpha', 'Alpha', 'ärlig', 'beta', 'Zeta']);
    expect(compareText('e\u0301', 'é')).not.toBe(0); // (the same letter, decomposed and composed: one order still)
    expect(compareText('é', 'e\u0301')).toBe(-compareText('e\u0301', 'é'));
  });

  it("sorts the rows by model, and draws the Pareto charts' panels in the table's order", async () => {
    const data = buildReport(points());
    expect([...new Set(data.rows.map((r) => r.group))]).toEqual(['alpha', 'ärlig', 'Zeta']);
    const charts = await renderCharts(data);
    for (const svg of Object.values(charts)) {
      const headers = [...svg.matchAll(/<text[^>]*>(Zeta|ärlig|alpha)<\/text>/g)].map((m) => m[1]);
      expect(headers).toEqual(['alpha', 'ärlig', 'Zeta']);
    }
  });

  it('compress report prints the same table under any LANG', () => {
    const store = join(dir, 'store.sqlite');
    storePoints(store, points());
    const report = (locale: string) => {
      const r = spawnSync(process.execPath, [BIN, 'report', store], {
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, LANG: locale, LC_ALL: locale },
      });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout;
    };
    const english = report('en_US.UTF-8');
    expect(tableModels(english)).toEqual(['alpha', 'alpha', 'ärlig', 'ärlig', 'Zeta', 'Zeta']);
    expect(report('sv_SE.UTF-8')).toBe(english);
  });
});

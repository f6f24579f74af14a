/**
 * A sweep's drop-layers step naming a layer the model lacks, or dropping every layer: the plan refuses it in the
 * pass's words before any point runs (Pass.checkModel reads the structure), where --dry-run listed the point and it
 * failed when it ran.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRefusal, writeTinyPlanFolder } from './plan-refusal.ts';

let root: string;
beforeAll(() => {
  // (2 layers)
  root = writeTinyPlanFolder('drop-layers-plan-');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const drop = (settings: Record<string, unknown>) => planRefusal(root, 'd', ['tiny'], 'p', [{ pass: 'drop-layers', settings }]);
const at = `step 1 (drop-layers): `;

describe("a sweep's plan checks drop-layers' layers against the model", () => {
  it('refuses a layer the model lacks, to drop or to keep, as the point would', async () => {
    expect(await drop({ layers: '5' })).toBe(
      `${join(root, 'd.yaml')}: pipeline 'p' on model 'tiny', ${at}drop-layers: layer 5 does not exist: the model has layers 0-1`,
    );
    expect(await drop({ keep: '0,2' })).toMatch(new RegExp(`${at.replace(/[()]/g, '\\$&')}drop-layers: layer 2 does not exist: the model has layers 0-1$`));
  });

  it('refuses dropping every layer', async () => {
    expect(await drop({ layers: '0,1' })).toMatch(/step 1 \(drop-layers\): drop-layers: cannot drop all 2 layers \(keep at least one\)$/);
  });

  it('plans the layers the model has', async () => {
    expect(await drop({ layers: '1' })).toBeUndefined();
    expect(await drop({ keep: 'every-other' })).toBeUndefined();
  });
});

/**
 * A sweep file's paths with a leading ~ (models[].path, glueDir, a distill step's teacher and student) are the home
 * folder's, as the shell reads `~`, where they named a folder `~` beside the file ('…/~/models/m: no such file or folder').
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSweep } from '../../src/sweep/spec.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

let t: TinySweep;
let home: string | undefined;
beforeAll(() => {
  t = writeTinySweep({ rows: 4, pipelines: ['baseline'] });
  home = process.env.HOME;
  process.env.HOME = t.root; // (the models and GLUE data lie in the home folder)
});
afterAll(() => {
  if (home === undefined) delete process.env.HOME;
  else process.env.HOME = home;
  t?.cleanup();
});

describe('a ~ in a sweep file', () => {
  it('models[].path, glueDir and a distill step’s teacher and student read ~ as the home folder', () => {
    const elsewhere = join(t.root, 'glue', 'SST-2', 'sweep.yaml'); // (a file in another folder than the models)
    const spec = parseSweep(
      {
        glueDir: '~/glue',
        models: [{ path: '~/models/tiny-sst2', tasks: ['SST-2'] }],
        pipelines: [{ name: 'kd', steps: [{ pass: 'distill', settings: { teacher: '~/models/tiny-sst2', student: '~/models/tiny-stsb' } }] }],
      },
      elsewhere,
      'sweep.yaml',
    );
    expect(spec.glueDir).toBe(join(t.root, 'glue'));
    expect(spec.models[0]!.path).toBe(join(t.root, 'models', 'tiny-sst2'));
    const step = JSON.stringify(spec.pipelines.find((p) => p.label === 'kd')!.training); // (the step as it runs)
    expect(step).toContain(JSON.stringify(join(t.root, 'models', 'tiny-sst2')));
    expect(step).toContain(JSON.stringify(join(t.root, 'models', 'tiny-stsb')));
    expect(step).not.toContain('~');
  });
});

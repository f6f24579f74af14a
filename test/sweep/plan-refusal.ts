/** The plan tests' one question: what line a sweep's plan refuses a sweep with, if any. */
import { join } from 'node:path';
import { expect } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { parseSweep } from '../../src/sweep/spec.ts';

/**
 * The one line planSweep refuses a sweep with (its SettingsError's message), or undefined when it plans: the sweep
 * `name`, its file `root`/`name`.yaml, of the model folders `models` (under `root`/models, each on SST-2, or on the
 * `tasks` given with its folder's name) and one pipeline `pipeline` of `steps`, GLUE data from `root`/glue.
 */
export async function planRefusal(
  root: string,
  name: string,
  models: ReadonlyArray<string | { folder: string; tasks: string[] }>,
  pipeline: string,
  steps: unknown[],
): Promise<string | undefined> {
  const spec = parseSweep(
    {
      name,
      models: models.map((m) => (typeof m === 'string' ? { path: `models/${m}`, tasks: ['SST-2'] } : { path: `models/${m.folder}`, tasks: m.tasks })),
      calibration: false,
      pipelines: [{ name: pipeline, steps }],
    },
    join(root, `${name}.yaml`),
    `${name}.yaml`,
  );
  try {
    await planSweep(spec, { glueDir: join(root, 'glue'), workDir: join(root, 'work') });
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(SettingsError);
    return (e as Error).message;
  }
}

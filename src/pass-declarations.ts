/**
 * Every compression pass's settings declaration (name, version, settings schema, flags), in the order `--help` and
 * `compress passes` list them. Light: no model code, so the CLI builds its flags from it without loading
 * onnxruntime. ALL_PASSES (passes.ts) holds the same passes with their `run`.
 */
import type { PassStep } from './pass/pass.ts';
import type { PassSettings } from './pass/settings.ts';
import { DROP_LAYERS, PRUNE_FFN, PRUNE_HEADS } from './prune/settings.ts';
import { FACTORIZE_EMBEDDINGS } from './factorize/settings.ts';
import { SHARE_LAYERS } from './share/spec.ts';
import { QUANTIZE } from './quantize/settings.ts';
import { OPTIMIZE } from './optimize/settings.ts';

export const PASS_DECLARATIONS: ReadonlyArray<PassSettings<unknown>> = [
  PRUNE_HEADS,
  PRUNE_FFN,
  DROP_LAYERS,
  FACTORIZE_EMBEDDINGS,
  SHARE_LAYERS,
  QUANTIZE,
  OPTIMIZE,
];

/**
 * Whether a pass step of `steps` reads the calibration examples' gold labels (PassDeclaration.readsLabels), not only
 * their text: where config.json's id2label order matters to it (compress --calibrate and a sweep's plan warn then).
 */
export function readsCalibrationLabels(steps: readonly PassStep[], declarations: ReadonlyArray<PassSettings<unknown>> = PASS_DECLARATIONS): boolean {
  const byName = new Map(declarations.map((d) => [d.name, d]));
  return steps.some((s) => {
    const d = byName.get(s.pass);
    return d?.readsLabels(d.check(s.settings)) ?? false;
  });
}

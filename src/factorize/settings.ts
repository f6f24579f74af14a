/** The settings of factorize-embeddings, declared once (see src/pass/settings.ts). */
import { z } from 'zod';
import { declarePass, integer, oneOf } from '../pass/settings.ts';
import type { FactorizeEmbeddingsOptions } from './embeddings.ts';

/** How the rows of the word embedding count in the truncated SVD. */
export const EMBEDDING_WEIGHTINGS = ['uniform', 'tokens'] as const;
export type EmbeddingWeighting = (typeof EMBEDDING_WEIGHTINGS)[number];

export const FACTORIZE_EMBEDDINGS = declarePass({
  name: 'factorize-embeddings',
  description: 'factorize the word embedding V×H into V×E and E×H by truncated SVD (ALBERT, Lan et al. 2020)',
  // 2: the factors are balanced (A = U√Σ, B = √ΣVᵀ instead of A = UΣ, B = Vᵀ): the same product, trains better
  version: 2,
  settings: z
    .object({
      rank: integer(1).describe('width E of the narrow table (below the hidden size H, so the table shrinks)'),
      // Absent unless tokens (uniform, the default, reads as absent), so that giving it or not is one canonical form:
      // one sweep key and lineage, those of every factorize-embeddings step written before the setting existed.
      weighting: oneOf(EMBEDDING_WEIGHTINGS)
        .transform((v) => (v === 'uniform' ? undefined : v))
        .optional()
        .describe(
          'rows the SVD fits best: uniform (every row alike, the default) or tokens (each row weighted by 1 + how often its token occurs in the calibration examples, so the tokens a task uses keep their vectors; GroupReduce, Chen et al. 2018)',
        ),
    })
    .strict(),
  flags: { adds: [{ flag: 'factorize-embeddings', setting: 'rank' }], modifiers: [{ flag: 'factorize-weighting', setting: 'weighting' }] },
  options: (s): FactorizeEmbeddingsOptions => ({ rank: s.rank, weighting: s.weighting ?? 'uniform' }),
  needsCalibration: (s) => s.weighting === 'tokens',
});

/** The settings of factorize-embeddings, declared once (see src/pass/settings.ts). */
import { z } from 'zod';
import { declarePass, integer } from '../pass/settings.ts';
import type { FactorizeEmbeddingsOptions } from './embeddings.ts';

export const FACTORIZE_EMBEDDINGS = declarePass({
  name: 'factorize-embeddings',
  description: 'factorize the word embedding V×H into V×E and E×H by truncated SVD (ALBERT, Lan et al. 2020)',
  version: 1,
  settings: z.object({ rank: integer(1).describe('width E of the narrow table (below the hidden size H, so the table shrinks)') }).strict(),
  flags: { adds: [{ flag: 'factorize-embeddings', setting: 'rank' }], modifiers: [] },
  options: (s): FactorizeEmbeddingsOptions => ({ rank: s.rank }),
});

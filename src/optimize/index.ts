/** Public API of the optimize pass: rewriting a discovered BERT for onnxruntime (first-token last layer, fused ops). */
export { optimizePass, optimizeModel } from './pass.ts';
export { OPTIMIZE, REWRITES, DEFAULT_REWRITES, parseRewrites, formatRewrites, type Rewrite, type OptimizeOptions } from './settings.ts';
export type { SkippedRewrite } from './context.ts';

export { pruneHeadsPass, applyHeadPruning, selectHeads, parseHeadList, type PruneHeadsOptions } from './heads.ts';
export { pruneFfnPass, type PruneFfnOptions } from './ffn.ts';
export { dropLayersPass, layersToDrop, type DropLayersOptions } from './layers.ts';
export { headScores, HEAD_IMPORTANCE, type HeadImportance, type HeadScores } from './head-importance.ts';

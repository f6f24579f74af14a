/** Low-rank factorization passes: the ALBERT factorized word embedding. */
export {
  factorizeEmbeddingsPass,
  factorizeWordEmbedding,
  tokenRowWeights,
  checkFactorizable,
  type FactorizeEmbeddingsOptions,
  type FactorizeEmbeddingsDetails,
} from './embeddings.ts';
export { balancedFactors, lowRankFactors, numericalRank, RANK_TOLERANCE, type LowRankFactors } from './low-rank.ts';
export { factorizeGather, gatherProblem, type FactorizedGather } from './rewrite.ts';
export { gramMatrix } from './gram.ts';
export { symmetricEigen, type SymmetricEigen } from './symmetric-eigen.ts';

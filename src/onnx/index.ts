/** The graph layer: read/write ONNX, the IR, and BERT-agnostic graph utilities. */
export * from './graph.ts';
export * from './dtype.ts';
export * from './tensor.ts';
export * from './analysis.ts';
export * from './validate.ts';
export { loadModel, decodeModel, type LoadOptions } from './load.ts';
export { inlineLocalFunctions, callsLocalFunctions } from './inline.ts';
export { locateModel, type ModelLocation } from './locate.ts';
export { saveModel, encodeModel, EXTERNAL_DATA_AUTO_THRESHOLD, type SaveOptions, type SavedFiles } from './save.ts';
export * from './size.ts';
export { externalDataFiles, modelSha256 } from './identity.ts';
export { rewriteBlocker, unknownFieldProblem } from './fidelity.ts';
export { SCHEMA_IR_VERSION, SCHEMA_ONNX_RELEASE } from './schema.ts';

/** The graph layer: read/write ONNX, the IR, and BERT-agnostic graph utilities. */
export * from './graph.ts';
export * from './dtype.ts';
export * from './tensor.ts';
export * from './analysis.ts';
export * from './validate.ts';
export { loadModel, decodeModel, type LoadOptions } from './load.ts';
export { saveModel, encodeModel, writeFileAtomic, EXTERNAL_DATA_AUTO_THRESHOLD, type SaveOptions, type SavedFiles } from './save.ts';
export * from './size.ts';

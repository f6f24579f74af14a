/**
 * Models from the Hugging Face hub without Python: `hf:org/name[@revision]` references, settings from the
 * environment (HF_ENDPOINT, HF_TOKEN, HF_HOME / HF_HUB_CACHE, HF_HUB_OFFLINE), the hub API, resumable verified
 * downloads and huggingface_hub's cache layout. Knows nothing of BERT: src/export/model-ref.ts builds models from it.
 */
export { HubError } from './errors.ts';
export { HUB_PREFIX, type HubRef, isCommitHash, isHubRef, parseHubRef, repoFolderName } from './ref.ts';
export { DEFAULT_ENDPOINT, type HubSettings, envFlag, hubSettings } from './settings.ts';
export { type RepoFile, type RepoInfo, fetchRepoInfo } from './api.ts';
export { type RepoCache, repoCache } from './cache.ts';
export { ONNX_FILE, SAFETENSORS_FILE, SAFETENSORS_INDEX, TOKENIZER_FILES, type WeightsKind, selectFiles } from './files.ts';
export { type Snapshot, type SnapshotOptions, cachedSnapshot, downloadSnapshot } from './snapshot.ts';
export type { FetchLike } from './http.ts';

/**
 * The repository's own fixtures (fixtures/, written by scripts/make-fixtures.ts, `npm run fixtures`): small graphs
 * that graph-rewriting tests use whatever ../shared holds, so a clone without it still tests real rewriting.
 */
import { join } from 'node:path';
import { FIXTURES_DIR, FIXTURE_SPECS } from '../../scripts/make-fixtures.ts';

export interface RepoFixture {
  name: string;
  /** The model folder (config.json and tokenizer files beside model.onnx where the fixture has them). */
  dir: string;
  /** Its model.onnx. */
  path: string;
  layers: number;
  heads: number;
  intermediateSize: number;
}

export const REPO_FIXTURES: readonly RepoFixture[] = FIXTURE_SPECS.map((s) => ({
  name: s.name,
  dir: join(FIXTURES_DIR, s.name),
  path: join(FIXTURES_DIR, s.name, 'model.onnx'),
  layers: s.config.numLayers,
  heads: s.config.numHeads,
  intermediateSize: s.config.intermediateSize,
}));

export const repoFixture = (name: string): RepoFixture => {
  const f = REPO_FIXTURES.find((x) => x.name === name);
  if (!f) throw new Error(`no repository fixture '${name}'`);
  return f;
};

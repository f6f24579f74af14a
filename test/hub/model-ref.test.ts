/** resolveModelRef: hf: references become local model folders (ONNX repos as they are, safetensors exported once). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBert } from '../../src/bert/build.ts';
import { findBert } from '../../src/bert/discover.ts';
import { downloadCheckpoint, exportedModelDir, resolveModelRef, resolveModelSource } from '../../src/export/model-ref.ts';
import { encodeModel, loadModel, saveModel } from '../../src/onnx/index.ts';
import { locateModel } from '../../src/onnx/locate.ts';
import { serveHub, type HubServer } from '../helpers/hub-server.ts';
import { maxAbs, maxDiff, outputsOf, sampleFeeds } from '../helpers/run-model.ts';
import { sharded, tinyCheckpoint } from './repo-files.ts';

let hub: HubServer;
const root = mkdtempSync(join(tmpdir(), 'bc-hub-ref-'));
let n = 0;
const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ HF_HOME: join(root, `home-${n++}`), HF_ENDPOINT: hub.baseUrl, ...extra });

const ckpt = tinyCheckpoint(5);
const direct = buildBert(ckpt.config, { kind: 'given', tensors: ckpt.weights });

beforeAll(async () => {
  hub = await serveHub();
  hub.addCommit('org/tiny', ckpt.files);
  hub.addCommit('org/sharded', sharded(ckpt));
  hub.addCommit('org/base', tinyCheckpoint(5, { withoutHead: true }).files);
  // An ONNX repo: onnx/model.onnx beside a safetensors checkpoint of other weights (the ONNX graph wins).
  hub.addCommit('org/onnx', {
    ...tinyCheckpoint(9).files,
    'onnx/model.onnx': Buffer.from(encodeModel(direct)),
  });
  // ONNX repos with their weights in onnx/model.onnx_data, as Optimum writes large models, and in onnx/model.onnx.data,
  // as torch.onnx.export writes them (external_data=True).
  for (const [repo, dataFile] of [
    ['org/onnx-ext', 'model.onnx_data'],
    ['org/onnx-dot-data', 'model.onnx.data'],
  ] as const) {
    const onnx = join(mkdtempSync(join(root, 'ext-')), 'model.onnx');
    saveModel(direct, onnx, { externalData: true, dataFile, externalSizeThreshold: 0 });
    hub.addCommit(repo, {
      ...tinyCheckpoint(9).files,
      'onnx/model.onnx': readFileSync(onnx),
      [`onnx/${dataFile}`]: readFileSync(join(onnx, '..', dataFile)),
    });
  }
});
afterAll(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

/** Max |logit difference| between the model at `path` and the model built directly from the checkpoint's weights. */
async function driftFromDirect(path: string): Promise<number> {
  const model = loadModel(locateModel(path).onnx);
  const feeds = sampleFeeds(direct, findBert(direct));
  const want = await outputsOf(direct, feeds);
  expect(maxAbs(want)).toBeGreaterThan(0);
  return maxDiff(await outputsOf(model, feeds), want);
}

describe('resolveModelRef', () => {
  it('returns plain paths unchanged', async () => {
    expect(await resolveModelRef('some/model.onnx')).toBe('some/model.onnx');
  });

  it('names the function called in its refusal of a ref that is no string', async () => {
    const what = 'expected a model path or hf:org/name[@revision], got number 5';
    await expect(resolveModelRef(5 as never)).rejects.toThrow(`resolveModelRef: ref: ${what}`);
    await expect(resolveModelSource(5 as never)).rejects.toThrow(`resolveModelSource: ref: ${what}`);
    await expect(resolveModelRef(undefined as never)).rejects.toThrow(/^resolveModelRef: ref: missing; /);
  });

  it("calls the caller's checkConfig beside its own, where it dropped it (never called), and a refusal of it ends the download", async () => {
    const told: string[] = [];
    const checkConfig = (file: string, weights: string) => told.push(`${existsSync(file)} ${weights}`);
    await resolveModelSource('hf:org/tiny', { env: env(), checkConfig });
    expect(told).toEqual(['true safetensors']);
    await downloadCheckpoint('hf:org/onnx', { env: env(), checkConfig });
    expect(told).toEqual(['true safetensors', 'true safetensors']);
    const refused = await resolveModelRef('hf:org/tiny', {
      env: env(),
      checkConfig: () => {
        throw new Error('not this one');
      },
    }).catch((e: Error) => e.message);
    expect(refused).toBe('not this one');
  });

  it('uses a repo with onnx/model.onnx as its snapshot folder', async () => {
    const e = env();
    const r = await resolveModelSource('hf:org/onnx', { env: e });
    expect(r.path).toBe(join(e.HF_HOME!, 'hub', 'models--org--onnx', 'snapshots', r.hub!.commit));
    expect(r.hub!.pinned).toBe(`hf:org/onnx@${r.hub!.commit}`);
    expect(locateModel(r.path).onnx).toBe(join(r.path, 'onnx', 'model.onnx'));
    expect(existsSync(join(r.path, 'model.safetensors'))).toBe(false);
    expect(existsSync(join(r.path, 'vocab.txt'))).toBe(true);
    expect(await driftFromDirect(r.path)).toBe(0);
  });

  it("offline, export's checkpoint of an ONNX repo cached by compress or eval (its ONNX export alone downloaded) is said to be the cache's gap, where it said the repo has no model.safetensors", async () => {
    const e = env();
    const r = await resolveModelSource('hf:org/onnx', { env: e });
    let error: Error | undefined;
    await downloadCheckpoint('hf:org/onnx', { env: { ...e, HF_HUB_OFFLINE: '1' } }).catch((x: Error) => (error = x));
    expect(error?.message).toBe(
      `hf:org/onnx: cached snapshot ${r.path} lacks the checkpoint to export (model.safetensors, model.safetensors.index.json; it holds onnx/model.onnx, which compress, eval and inspect read as it is) (HF_HUB_OFFLINE is set); run once without HF_HUB_OFFLINE to download it`,
    );
    // (online, it is downloaded beside the ONNX export)
    expect((await downloadCheckpoint('hf:org/onnx', { env: e })).weights).toBe('safetensors');
  });

  it("reads an ONNX repo whose weights are in onnx/model.onnx_data, a link to the cache's blobs", async () => {
    const e = env();
    const r = await resolveModelSource('hf:org/onnx-ext', { env: e });
    const data = join(r.path, 'onnx', 'model.onnx_data');
    if (!lstatSync(data).isSymbolicLink()) return; // a file system without symbolic links holds copies
    expect(await driftFromDirect(r.path)).toBe(0);
  });

  it('downloads the external data file onnx/model.onnx names under any name (model.onnx.data), online and offline', async () => {
    const e = env();
    const r = await resolveModelSource('hf:org/onnx-dot-data', { env: e });
    expect(existsSync(join(r.path, 'onnx', 'model.onnx.data'))).toBe(true);
    expect(await driftFromDirect(r.path)).toBe(0);
    const offline = { env: { ...e, HF_HUB_OFFLINE: '1' } };
    expect((await resolveModelSource('hf:org/onnx-dot-data', offline)).path).toBe(r.path);
    // a cached snapshot without it is not the model: said when resolved, not when onnxruntime opens it
    rmSync(join(r.path, 'onnx', 'model.onnx.data'));
    await expect(resolveModelSource('hf:org/onnx-dot-data', offline)).rejects.toThrow(
      /lacks onnx\/model\.onnx\.data, which onnx\/model\.onnx keeps its weights in/,
    );
  });

  it('exports a safetensors repo once, with the logits of the model built from the same weights', async () => {
    const e = env();
    const lines: string[] = [];
    const r = await resolveModelSource('hf:org/tiny', { env: e, log: (l) => lines.push(l) });
    expect(r.path).toBe(exportedModelDir({ repoDir: join(e.HF_HOME!, 'hub', 'models--org--tiny'), commit: r.hub!.commit }));
    expect(r.path).toContain(join('models--org--tiny', 'bert-compress'));
    expect(readdirSync(r.path).sort()).toEqual(expect.arrayContaining(['config.json', 'model.onnx', 'vocab.txt']));
    expect(await driftFromDirect(r.path)).toBeLessThan(1e-5);
    expect(lines.some((l) => l.includes('exported the safetensors checkpoint'))).toBe(true);
    expect(lines.some((l) => l.includes('newly initialized'))).toBe(false);
    // Reused: no rebuild (same file), online and offline; no leftover temporary folders.
    const mtime = statSync(join(r.path, 'model.onnx')).mtimeMs;
    const again: string[] = [];
    expect(await resolveModelRef('hf:org/tiny', { env: e, log: (l) => again.push(l) })).toBe(r.path);
    expect(await resolveModelRef('hf:org/tiny', { env: { ...e, HF_HUB_OFFLINE: '1' } })).toBe(r.path);
    expect(statSync(join(r.path, 'model.onnx')).mtimeMs).toBe(mtime);
    expect(again.some((l) => l.includes('exported'))).toBe(false);
    expect(readdirSync(join(r.path, '..'))).toEqual([r.hub!.commit]);
  });

  it('exports a sharded checkpoint', async () => {
    const path = await resolveModelRef('hf:org/sharded', { env: env() });
    expect(await driftFromDirect(path)).toBeLessThan(1e-5);
  });

  it('seeds the head of a base checkpoint (seed 0) and says so', async () => {
    const lines: string[] = [];
    const path = await resolveModelRef('hf:org/base', { env: env(), log: (l) => lines.push(l) });
    expect(lines.filter((l) => l.includes('newly initialized'))).toEqual([
      'warning: hf:org/base: the checkpoint has no classification head: classifier.weight, classifier.bias newly initialized (seed 0); train or distil it before trusting its predictions',
    ]);
    // The checkpoint's encoder with the classifier seeded (seed 0) as the builder's fillMissing does: the same logits.
    const headless = new Map([...ckpt.weights].filter(([name]) => !name.startsWith('classifier.')));
    const seeded = buildBert(ckpt.config, { kind: 'given', tensors: headless, fillMissing: { seed: 0 } });
    const feeds = sampleFeeds(seeded, findBert(seeded));
    const want = await outputsOf(seeded, feeds);
    expect(maxDiff(await outputsOf(loadModel(locateModel(path).onnx), feeds), want)).toBeLessThan(1e-5);
    expect(maxDiff(await outputsOf(direct, feeds), want)).toBeGreaterThan(1e-4);
  });
});

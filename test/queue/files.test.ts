/**
 * How a worker finds a queued point's files: at the coordinator's paths (a shared filesystem), through a local
 * `--path-map`, or fetched over HTTP into its cache and verified by sha256, and the point then runs to the same
 * result as on the coordinator. Wrong or missing files fail with one line.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync, existsSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { NotForThisWorker } from '../../src/queue/job.ts';
import { sha256File } from '../../src/files.ts';
import { formatMB } from '../../src/units.ts';
import { loadModel, saveModel } from '../../src/onnx/index.ts';
import { localizePoint, pointFiles, type FileTree, type WorkerFiles } from '../../src/queue/files.ts';
import { parseSweepFile } from '../../src/sweep/spec.ts';
import { planSweep, type SweepPoint } from '../../src/sweep/plan.ts';
import { runPoint, type PointResult } from '../../src/sweep/point.ts';
import { serveFiles, type FileServer } from '../helpers/glue-server.ts';
import { writeTinySweep, type TinySweep } from '../sweep/tiny-sweep.ts';
import { measured } from './measured.ts';

describe("a queued point's files on a worker", () => {
  let t: TinySweep;
  let moved: string;
  let point: SweepPoint;
  let trees: FileTree[];
  let reference: PointResult;
  let scratch: string;
  const files = (over: Partial<WorkerFiles> = {}): WorkerFiles => ({ cacheDir: join(scratch, 'cache'), workDir: join(scratch, 'work'), pathMap: [], ...over });

  beforeAll(async () => {
    t = writeTinySweep({ rows: 40 });
    moved = `${t.root}-moved`;
    scratch = mkdtempSync(join(tmpdir(), 'queue-files-'));
    const points = await planSweep(parseSweepFile(t.sweepFile), { glueDir: t.glueDir, workDir: join(t.root, 'out') });
    point = points.find((p) => p.model.name === 'tiny-sst2' && p.label === 'heads-0.5')!;
    trees = await pointFiles(point, sha256File);
    reference = await runPoint(point, { threads: 1 });
  });
  afterAll(() => {
    if (existsSync(moved)) renameSync(moved, t.root);
    t?.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('lists the model folder and the GLUE files the point reads, with their sha256 and sizes', async () => {
    const byRoot = new Map(trees.map((tree) => [tree.root, tree.files.map((f) => f.path)]));
    expect(byRoot.get(point.model.dir)).toEqual(['config.json', 'model.onnx', 'vocab.txt']);
    expect(byRoot.get(t.glueDir)).toEqual(['SST-2/dev.tsv']);
    for (const tree of trees) {
      for (const f of tree.files) {
        expect(f.sha256).toBe(await sha256File(join(tree.root, f.path)));
        expect(f.bytes).toBe(readFileSync(join(tree.root, f.path)).length);
      }
    }
  });

  it("on a shared filesystem: the same paths, outputs in the worker's own folder", async () => {
    const local = await localizePoint(point, trees, files());
    expect(local.model).toEqual(point.model);
    expect(local.glueDir).toBe(point.glueDir);
    expect(local.outputDir!.startsWith(join(scratch, 'work'))).toBe(true);
    expect(local.key).toBe(point.key);
  });

  it("a file changed since the point was queued is refused with one line, as the point's failure (not given back)", async () => {
    const vocab = join(point.model.dir, 'vocab.txt');
    const before = readFileSync(vocab);
    writeFileSync(vocab, Buffer.concat([before, Buffer.from('extra\n')]));
    try {
      const e = await localizePoint(point, trees, files()).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(DataError);
      expect(e).not.toBeInstanceOf(NotForThisWorker);
      expect((e as Error).message).toMatch(/vocab\.txt: differs from the coordinator's/);
    } finally {
      writeFileSync(vocab, before);
    }
  });

  it('a file replaced by another of the same size and mtime (mv) after it was checked is refused', async () => {
    const vocab = join(point.model.dir, 'vocab.txt');
    const before = readFileSync(vocab);
    const past = new Date(Date.now() - 3_600_000);
    utimesSync(vocab, past, past);
    try {
      await localizePoint(point, trees, files()); // (checked, with the old mtime)
      const other = join(scratch, 'vocab.txt');
      writeFileSync(
        other,
        Buffer.from(
          before.toString('latin1').replace(/[a-z]/, (c) => (c === 'z' ? 'y' : 'z')),
          'latin1',
        ),
      );
      expect(readFileSync(other).length).toBe(before.length);
      utimesSync(other, past, past);
      renameSync(other, vocab);
      await expect(localizePoint(point, trees, files())).rejects.toThrow(/vocab\.txt: differs from the coordinator's/);
    } finally {
      writeFileSync(vocab, before);
    }
  });

  describe("on a machine without the coordinator's folders", () => {
    let server: FileServer;
    beforeAll(async () => {
      renameSync(t.root, moved);
      const served: Record<string, Buffer> = {};
      for (const tree of trees)
        for (const f of tree.files) served[relative(t.root, join(tree.root, f.path))] = readFileSync(join(moved, relative(t.root, tree.root), f.path));
      // The same model folder with a wrong model.onnx.
      for (const name of ['config.json', 'vocab.txt']) served[`corrupt/tiny-sst2/${name}`] = served[`models/tiny-sst2/${name}`]!;
      served['corrupt/tiny-sst2/model.onnx'] = Buffer.from('not the model');
      server = await serveFiles(served);
    });
    afterAll(async () => {
      await server?.close();
      renameSync(moved, t.root);
    });

    it("without a --path-map the point fails with one line saying what to do, as this worker's failure (given back to the queue)", async () => {
      const e = await localizePoint(point, trees, files()).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(NotForThisWorker);
      expect((e as Error).message).toMatch(/not found on this worker; share .* at the same path, or map it with --path-map/);
      expect((e as Error).message).not.toContain('\n');
    });

    it("a --path-map folder whose file differs is refused with one line, as the point's failure, as at the coordinator's own path, where it was given back; one missing there is given back", async () => {
      const copy = join(scratch, 'stale-copy');
      cpSync(moved, copy, { recursive: true });
      try {
        writeFileSync(join(copy, 'models', 'tiny-sst2', 'vocab.txt'), 'stale\n');
        const e = await localizePoint(point, trees, files({ pathMap: [{ from: t.root, to: copy }] })).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(DataError);
        expect(e).not.toBeInstanceOf(NotForThisWorker);
        expect((e as Error).message).toMatch(/stale-copy\/models\/tiny-sst2\/vocab\.txt: differs from the coordinator's .* \(mapped from .* by --path-map /);
        rmSync(join(copy, 'models', 'tiny-sst2', 'vocab.txt'));
        await expect(localizePoint(point, trees, files({ pathMap: [{ from: t.root, to: copy }] }))).rejects.toBeInstanceOf(NotForThisWorker);
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    });

    it('a --path-map to another folder finds the same files there', async () => {
      const local = await localizePoint(point, trees, files({ pathMap: [{ from: t.root, to: moved }] }));
      expect(local.model.onnx).toBe(join(moved, relative(t.root, point.model.onnx)));
      expect(local.glueDir).toBe(join(moved, 'glue'));
    });

    it('a --path-map to a URL fetches each file once into the cache, checked, and the point gives the same result', async () => {
      const map = { pathMap: [{ from: t.root, to: server.baseUrl }] };
      const logs: string[] = [];
      const local = await localizePoint(point, trees, files({ ...map, log: (l) => logs.push(l) }));
      // each fetch says the file's size as every summary does (a config.json under 1 kB in bytes, where it read '0.0 MB')
      const sizes = trees.flatMap((tree) => tree.files.map((f) => formatMB(f.bytes)));
      expect(logs.map((l) => /^fetching \S+ \((.*)\)$/.exec(l)?.[1])).toEqual(sizes);
      expect(sizes.some((s) => s.endsWith(' B'))).toBe(true);
      expect(local.model.onnx.startsWith(join(scratch, 'cache', 'trees'))).toBe(true);
      expect(local.glueDir.startsWith(join(scratch, 'cache', 'trees'))).toBe(true);
      const fetched = server.requests.length;
      expect(fetched).toBe(trees.reduce((n, tree) => n + tree.files.length, 0));
      // A second point over the same files reads them from the cache.
      await localizePoint(point, trees, files(map));
      expect(server.requests.length).toBe(fetched);
      const result = await runPoint(local, { threads: 1 });
      expect(measured(result)).toEqual(measured(reference));
    });

    it('two workers of one process id sharing a cache (pid 1 in two containers; here two copies of the module in one process) fetch the same files at once, each whole, where both wrote the same part file', async () => {
      vi.resetModules();
      const one = await import('../../src/queue/files.ts');
      vi.resetModules();
      const two = await import('../../src/queue/files.ts');
      expect(one.localizePoint).not.toBe(two.localizePoint);
      const shared = files({ cacheDir: join(scratch, 'shared-cache'), pathMap: [{ from: t.root, to: server.baseUrl }] });
      const [a, b] = await Promise.all([one.localizePoint(point, trees, shared), two.localizePoint(point, trees, shared)]);
      for (const local of [a, b]) expect(await sha256File(local.model.onnx)).toBe(trees[0]!.files.find((f) => f.path.endsWith('model.onnx'))!.sha256);
    });

    it("a fetch cut short is resumed from its bytes by the point's next run in this worker, leaving no part behind", async () => {
      const cacheDir = join(scratch, 'cache-cut');
      const onnx = trees.find((tree) => tree.root === point.model.dir)!.files.find((f) => f.path === 'model.onnx')!;
      const name = 'models/tiny-sst2/model.onnx';
      const cutAt = Math.floor(onnx.bytes / 2);
      server.cutNext(name, cutAt);
      const map = { cacheDir, pathMap: [{ from: t.root, to: server.baseUrl }] };
      await expect(localizePoint(point, trees, files(map))).rejects.toThrow(/download interrupted at \d+ bytes/);
      const before = server.requests.length;
      const local = await localizePoint(point, trees, files(map));
      expect(await sha256File(local.model.onnx)).toBe(onnx.sha256);
      // (the retry asked for the bytes it lacked, where it fetched the file from byte 0 under a new name)
      expect(server.requests.slice(before).find((r) => r.path === name)?.range).toBe(`bytes=${cutAt}-`);
      expect(readdirSync(join(cacheDir, 'blobs')).filter((f) => /\.(tmp|part)$/.test(f))).toEqual([]);
    });

    it('a part a worker killed while fetching left is resumed by the next worker sharing the cache, leaving no part behind', async () => {
      const cacheDir = join(scratch, 'cache-killed');
      const onnx = trees.find((tree) => tree.root === point.model.dir)!.files.find((f) => f.path === 'model.onnx')!;
      const name = 'models/tiny-sst2/model.onnx';
      const cutAt = Math.floor(onnx.bytes / 2);
      // (the killed worker's part, and a smaller one of another, both written a while ago: the larger is resumed)
      const blob = join(cacheDir, 'blobs', onnx.sha256);
      const modelBytes = readFileSync(join(moved, name));
      mkdirSync(dirname(blob), { recursive: true });
      const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
      const parts = [`${blob}.${dead}.abcd1234.tmp.part`, `${blob}.${dead}.efgh5678.tmp.part`];
      writeFileSync(parts[0]!, modelBytes.subarray(0, cutAt));
      writeFileSync(parts[1]!, modelBytes.subarray(0, 10));
      for (const part of parts) utimesSync(part, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
      const before = server.requests.length;
      const local = await localizePoint(point, trees, files({ cacheDir, pathMap: [{ from: t.root, to: server.baseUrl }] }));
      expect(await sha256File(local.model.onnx)).toBe(onnx.sha256);
      expect(server.requests.slice(before).find((r) => r.path === name)?.range).toBe(`bytes=${cutAt}-`);
      expect(readdirSync(join(cacheDir, 'blobs')).filter((f) => /\.(tmp|part)$/.test(f))).toEqual([]);
    });

    it("a part a worker of this worker's own pid left (pid 1 in each of two containers sharing the cache; or an earlier process given the pid) is resumed once unwritten a while, where this pid being alive kept it for ever; a fresh one is left to its writer", async () => {
      const cacheDir = join(scratch, 'cache-same-pid');
      const onnx = trees.find((tree) => tree.root === point.model.dir)!.files.find((f) => f.path === 'model.onnx')!;
      const name = 'models/tiny-sst2/model.onnx';
      const cutAt = Math.floor(onnx.bytes / 2);
      const blob = join(cacheDir, 'blobs', onnx.sha256);
      const modelBytes = readFileSync(join(moved, name));
      mkdirSync(dirname(blob), { recursive: true });
      // (another container's pid-1 worker, writing now: its part is not this worker's to take)
      const live = `${blob}.${process.pid}.live0000.tmp.part`;
      writeFileSync(live, modelBytes.subarray(0, 10));
      const map = { cacheDir, pathMap: [{ from: t.root, to: server.baseUrl }] };
      let before = server.requests.length;
      await localizePoint(point, trees, files(map));
      expect(server.requests.slice(before).find((r) => r.path === name)?.range).toBeUndefined();
      expect(existsSync(live)).toBe(true);
      // (one killed while fetching, unwritten for an hour: resumed from its bytes)
      rmSync(join(cacheDir, 'blobs', onnx.sha256));
      rmSync(join(cacheDir, 'trees'), { recursive: true });
      rmSync(live);
      const dead = `${blob}.${process.pid}.dead0000.tmp.part`;
      writeFileSync(dead, modelBytes.subarray(0, cutAt));
      utimesSync(dead, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
      before = server.requests.length;
      const local = await localizePoint(point, trees, files(map));
      expect(await sha256File(local.model.onnx)).toBe(onnx.sha256);
      expect(server.requests.slice(before).find((r) => r.path === name)?.range).toBe(`bytes=${cutAt}-`);
      expect(readdirSync(join(cacheDir, 'blobs')).filter((f) => /\.(tmp|part)$/.test(f))).toEqual([]);
    });

    it("a fetched file whose sha256 differs is refused with one line naming the mapping and not kept, as the point's failure, as at the coordinator's own path, where it was given back", async () => {
      const cacheDir = join(scratch, 'cache-corrupt');
      const model = trees.find((tree) => tree.root === point.model.dir)!;
      const onnx = model.files.find((f) => f.path === 'model.onnx')!;
      const e = await localizePoint(point, trees, files({ cacheDir, pathMap: [{ from: join(t.root, 'models'), to: `${server.baseUrl}/corrupt` }] })).catch(
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(DataError);
      expect(e).not.toBeInstanceOf(NotForThisWorker);
      expect((e as Error).message).toMatch(
        new RegExp(
          `corrupt/tiny-sst2/model\\.onnx: checksum mismatch: .*; the download was removed \\(mapped from ${join(t.root, 'models', 'tiny-sst2')} by --path-map ${join(t.root, 'models')}=${server.baseUrl}/corrupt\\)$`,
        ),
      );
      expect(existsSync(join(cacheDir, 'blobs', onnx.sha256))).toBe(false);
    });
  });
});

describe("a queued point's model with external data", () => {
  it("lists the data files its .onnx names, in a subfolder or under any name, not another model's data beside it", async () => {
    const t = writeTinySweep({ rows: 8 });
    let server: FileServer | undefined;
    try {
      const dir = join(t.root, 'models', 'tiny-sst2');
      const onnx = join(dir, 'model.onnx');
      saveModel(loadModel(onnx), onnx, { externalData: true, dataFile: 'weights/tiny.bin', externalSizeThreshold: 0 });
      writeFileSync(join(dir, 'model_fp16.onnx_data'), 'the data of a model beside it, which the point never reads');
      const points = await planSweep(parseSweepFile(t.sweepFile), { glueDir: t.glueDir, workDir: join(t.root, 'out') });
      const point = points.find((p) => p.model.name === 'tiny-sst2' && p.label === 'baseline')!;
      const trees = await pointFiles(point, sha256File);
      const model = trees.find((tree) => tree.root === dir)!;
      expect(model.files.map((f) => f.path).sort()).toEqual(['config.json', 'model.onnx', 'vocab.txt', 'weights/tiny.bin']);
      // a worker without the coordinator's folders fetches them, and its model reads its weights there
      const served: Record<string, Buffer> = {};
      for (const tree of trees) for (const f of tree.files) served[relative(t.root, join(tree.root, f.path))] = readFileSync(join(tree.root, f.path));
      server = await serveFiles(served);
      const cache = join(t.root, 'worker');
      const local = await localizePoint(
        { ...point, model: { ...point.model, dir: join(t.root, 'elsewhere'), onnx: join(t.root, 'elsewhere', 'model.onnx') } },
        trees.map((tree) => (tree.root === dir ? { ...tree, root: join(t.root, 'elsewhere') } : tree)),
        {
          cacheDir: join(cache, 'cache'),
          workDir: join(cache, 'work'),
          pathMap: [{ from: join(t.root, 'elsewhere'), to: `${server.baseUrl}/models/tiny-sst2` }],
        },
      );
      expect(loadModel(local.model.onnx).graph.initializers.size).toBe(loadModel(onnx).graph.initializers.size);
    } finally {
      await server?.close();
      t.cleanup();
    }
  });
});

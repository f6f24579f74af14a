/** The child process of session-memory.ts: measures one model's session memory, replies, and exits (at once when its parent goes away). */
import { buildBert } from '../bert/build.ts';
import { bertConfig } from '../bert/config.ts';
import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { errorMessage } from '../errors.ts';
import { encodeModel } from '../onnx/save.ts';
import { openSession, Tensor, type Feeds } from '../runtime/session.ts';
import { ownMappedFilesIn } from './memory.ts';
import type { SessionMemory, SessionMemoryReply, SessionMemoryRequest } from './session-memory.ts';

async function measure(req: SessionMemoryRequest): Promise<SessionMemory> {
  // onnxruntime's start-up, so that it is not counted as the model's
  const tiny = buildBert(bertConfig({ vocabSize: 8, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16, maxPositions: 8 }), {
    kind: 'random',
    seed: 0,
  });
  const warm = await openSession(encodeModel(tiny), { threads: req.threads, spinning: req.spinning });
  await warm.run(Object.fromEntries(warm.inputNames.map((n) => [n, new Tensor('int64', new BigInt64Array(4).fill(n === 'token_type_ids' ? 0n : 1n), [1, 4])])));
  // (the tiny session stays open while the model's is measured: the pages it would free would be reused by the
  // model's session, which read 0 B for a model of its size)
  const before = process.memoryUsage.rss();
  const session = await openSession(req.path, { threads: req.threads, spinning: req.spinning });
  for (const f of req.feeds) {
    const feeds: Feeds = Object.fromEntries(Object.entries(f).map(([name, t]) => [name, new Tensor(t.type as 'int64', t.data as BigInt64Array, t.dims)]));
    await session.run(feeds);
  }
  const grew = Math.max(0, process.memoryUsage.rss() - before);
  // the weights onnxruntime mapped from the model's external data (its folder's files) rather than read
  const mapped = ownMappedFilesIn(dirname(realpathSync(req.path)));
  await session.release();
  await warm.release();
  return { sessionRssBytes: grew, mappedWeightBytes: mapped.mappedBytes, mappedResidentBytes: mapped.residentBytes };
}

// A parent gone (killed outright) leaves nothing to measure for: this process ends too, mid-measurement.
process.on('disconnect', () => process.exit(0));
process.once('message', (req: SessionMemoryRequest) => {
  measure(req)
    .then((memory): SessionMemoryReply => ({ ok: true, ...memory }))
    .catch((e: unknown): SessionMemoryReply => ({ ok: false, error: errorMessage(e) }))
    .then((reply) => process.send?.(reply, () => process.exit(0)));
});

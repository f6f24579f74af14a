import { evaluate } from './src/eval/evaluate.ts';
for (const split of ['dev', 'test', 'dev', 'test'] as const) {
  const t0 = performance.now();
  const r = await evaluate({ model: '../shared/teachers/sst2-L4H256', tasks: ['sst2'], split });
  console.log(split, r.tasks[0]!.examples, ((performance.now() - t0) / 1000).toFixed(2), r.tasks[0]!.seconds.toFixed(2));
}

/** The terminal table of a benchmark: one row per shape, then the machine, memory and overall speed-up. */
import { describeDtype } from '../eval/model-files.ts';
import { describeRelation } from './lineage.ts';
import { describeMachine } from './machine.ts';
import { describeContention } from './timing-lock.ts';
import { describeMachineLoad } from './machine-load.ts';
import type { BenchResult, MemoryUse } from './run.ts';
import { formatMB } from '../units.ts';
import { groupedDigits } from '../errors.ts';

/** Lines of the table for `compress bench` (latencies in ms, throughput in examples/s). */
export function formatBench(r: BenchResult): string[] {
  const withBase = r.baseline !== undefined;
  // with a time budget, the runs each shape took (fewer than --repeats once its share was spent)
  const budget = r.maxSeconds !== undefined;
  const header = [
    'batch',
    'seq',
    ...(budget ? ['runs'] : []),
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'ex/s',
    ...(withBase ? ['base p50', 'base ex/s', 'speed-up'] : []),
  ];
  const rows = r.shapes.map((s) => [
    String(s.batch),
    String(s.seq),
    ...(budget ? [String(s.model.runs)] : []),
    s.model.p50Ms.toFixed(2),
    s.model.p90Ms.toFixed(2),
    s.model.p99Ms.toFixed(2),
    s.model.throughput.toFixed(0),
    ...(withBase ? [s.baseline!.p50Ms.toFixed(2), s.baseline!.throughput.toFixed(0), `×${s.speedup!.toFixed(2)}`] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  // the files timed, by name: a folder may hold several (a transformers.js folder: the file of its dtype)
  const named = `model: ${r.model}${describeDtype({ transformersJs: r.modelDtype })}${withBase ? `; baseline: ${r.baseline}${describeDtype({ transformersJs: r.baselineDtype })}` : ''}`;
  // (a multiple-choice export: its batch is of examples, a row per choice each)
  const choices =
    r.choices !== undefined ? [`multiple-choice: batch N is N examples of ${r.choices} choices each (N × ${r.choices} rows a run); ex/s counts examples`] : [];
  const out = [named, ...choices, line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ''];
  // (what other programs used while timing, marked or not: unknown off Linux)
  out.push(`machine: ${describeMachine(r.machine)}${r.timing?.load ? `; ${describeMachineLoad(r.timing.load)}` : ''}`);
  // (a shape whose runs fell short of --repeats, or of the most whose latencies can be kept, stopped on its share of the time;
  // --warmup 0 is no warm-up, not 'at most 0')
  const ceiling = r.keptRuns?.most ?? r.repeats;
  const timedOut = r.shapes.some((s) => s.model.runs < ceiling);
  const budgetNote = budget
    ? `; --max-time ${r.maxSeconds} s: ${timedOut ? "a shape's runs stopped once its share was spent (runs column)" : "no shape's runs stopped for it"}`
    : '';
  out.push(
    `runs: ${budget ? 'at most ' : ''}${groupedDigits(r.repeats)} timed per model and shape after ${r.warmup === 0 ? 'no' : `${budget ? 'at most ' : ''}${groupedDigits(r.warmup)}`} warm-up${withBase ? ', interleaved with the baseline' : ''}${r.spinning === false ? ' (onnxruntime threads not spin-waiting, so neither session slows the other)' : ''}${budgetNote}`,
  );
  if (r.keptRuns)
    out.push(
      `note: a shape's runs stopped at ${groupedDigits(r.keptRuns.most)}, the most whose latencies can be kept (${r.keptRuns.bound}), before --repeats ${r.repeats} or its share of --max-time`,
    );
  const mem: string[] = [];
  if (r.memory.model) mem.push(`model session ${describeSessionMemory(r.memory.model)}`);
  if (r.memory.baseline) mem.push(`baseline session ${describeSessionMemory(r.memory.baseline)}`);
  mem.push(`peak RSS ${formatMB(r.memory.peakRssBytes)}${r.memory.peakRssScope === 'process' ? ' (whole process)' : ''}`);
  out.push(`memory: ${mem.join(', ')}`);
  if (r.speedup !== undefined) {
    out.push(`speed-up over ${r.baseline}: ×${r.speedup.toFixed(2)} (geometric mean over shapes)`);
    out.push(
      "  each shape's speed-up is the median over rounds of the baseline's time ÷ the model's in the same round (interleaved pairs cancel the machine's drift), so it can differ from base p50 ÷ p50",
    );
  }
  // (sizes the user did not give are named as the defaults, not as a flag they never wrote)
  for (const [dim, what, flag, one, defaults] of [
    ['seq', 'sequence length', '--seq', 'length', 'lengths'],
    ['batch', 'batch size', '--batch', 'batch size', 'batch sizes'],
  ] as const) {
    const f = r.fixed?.[dim];
    // (one default length where the position table caps 32 and 128 alike: 'the default length 10 was not used')
    const unused = f?.defaults
      ? f.asked.length === 1
        ? `the default ${one} ${f.asked[0]} was not used`
        : `the default ${defaults} ${f.asked.join(',')} were not used`
      : `${flag} ${f?.asked.join(',')} was not used`;
    if (f) out.push(`note: the graph fixes the ${what} at ${f.size}, so every shape runs at ${f.size}: ${unused}`);
  }
  const unrelated = r.baseline !== undefined ? describeRelation(r.baselineRelation, r.model, r.baseline) : undefined;
  if (unrelated) out.push(`warning: ${unrelated}`);
  // (a benchmark without --baseline measured no speed-up: its latencies are what the machine's load may have moved)
  const contention = describeContention(r.timing, r.speedup !== undefined ? 'speed-ups' : 'latencies');
  if (contention) out.push(`warning: ${contention}`);
  return out;
}

/**
 * Below this, a session's RSS growth is not told from the noise of the measuring process (the pages freed by its
 * JavaScript and reused by the session: a 1-layer, 8-wide BERT read 0 to 0.5 MB, a 2-layer one 0.8 to 0.9 MB), so
 * it is said to be under it rather than printed as a figure ("0 B").
 */
const SESSION_RSS_RESOLUTION_BYTES = 1e6;

/**
 * A session's memory as what it is, RSS, beside the model's weights (under 1 MB: "< 1 MB", see
 * SESSION_RSS_RESOLUTION_BYTES); weights onnxruntime memory-maps from an external data file (RSS counts them only as touched: of an embedding table, the rows of the tokens run) are said so, with
 * how much of them was resident, so a session reading far below its weights is not taken for one that holds less.
 */
export function describeSessionMemory(m: MemoryUse): string {
  const notes: string[] = [];
  if (m.weightBytes !== undefined) notes.push(`weights ${formatMB(m.weightBytes)}`);
  if (m.mappedWeightBytes) {
    notes.push(`${formatMB(m.mappedWeightBytes)} of them memory-mapped from their file and counted only as touched: ${formatMB(m.mappedResidentBytes ?? 0)}`);
  }
  const rss = m.sessionRssBytes < SESSION_RSS_RESOLUTION_BYTES ? '< 1 MB' : formatMB(m.sessionRssBytes);
  return `${rss} RSS${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
}

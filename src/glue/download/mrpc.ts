/**
 * Building GLUE's MRPC files from the MSR Paraphrase Corpus files, as `format_mrpc` in the official
 * `download_glue_data.py` does: test.tsv gets the header `index\t#1 ID\t#2 ID\t#1 String\t#2 String` and a running
 * index; train.tsv and dev.tsv keep the MSR header line (with its byte-order mark) and split the training pairs by
 * whether their (#1 ID, #2 ID) is in dev_ids.tsv. Each row is stripped as Python's str.strip() strips it and must have
 * 5 fields.
 */
import { DataError } from '../../errors.ts';
import { pythonStrip } from '../../python-int.ts';

export interface MrpcFiles {
  readonly train: string;
  readonly dev: string;
  readonly test: string;
}

/** Lines as Python's text mode reads them (universal newlines), without their line ends. */
function pythonLines(text: string): string[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function fields(line: string, file: string, lineNumber: number): string[] {
  const f = pythonStrip(line).split('\t');
  if (f.length !== 5) throw new DataError(`${file}:${lineNumber}: expected 5 tab-separated fields, found ${f.length}`);
  return f;
}

/** The three GLUE MRPC files from the MSR train/test files and the GLUE dev ids. */
export function formatMrpc(
  msrTrain: string,
  msrTest: string,
  devIds: string,
  names = { train: 'msr_paraphrase_train.txt', test: 'msr_paraphrase_test.txt', devIds: 'dev_ids.tsv' },
): MrpcFiles {
  const testLines = pythonLines(msrTest);
  const test = ['index\t#1 ID\t#2 ID\t#1 String\t#2 String'];
  testLines.slice(1).forEach((line, i) => {
    const [, id1, id2, s1, s2] = fields(line, names.test, i + 2);
    test.push(`${i}\t${id1}\t${id2}\t${s1}\t${s2}`);
  });

  const dev = new Set(pythonLines(devIds).map((l) => pythonStrip(l)));
  const trainLines = pythonLines(msrTrain);
  if (trainLines.length === 0) throw new DataError(`${names.train}: empty file`);
  const header = trainLines[0]!;
  const trainOut = [header];
  const devOut = [header];
  trainLines.slice(1).forEach((line, i) => {
    const [label, id1, id2, s1, s2] = fields(line, names.train, i + 2);
    (dev.has(`${id1}\t${id2}`) ? devOut : trainOut).push(`${label}\t${id1}\t${id2}\t${s1}\t${s2}`);
  });
  const text = (lines: string[]) => lines.join('\n') + '\n';
  return { train: text(trainOut), dev: text(devOut), test: text(test) };
}

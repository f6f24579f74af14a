/**
 * Where the official GLUE files come from: the URLs of the official `download_glue_data.py` (the GLUE authors'
 * script: task archives on dl.fbaipublicfiles.com/glue/data, MRPC from SentEval's copy of the MSR files plus the
 * GLUE dev ids, the diagnostic set as AX.tsv), each with its sha256 and size.
 *
 * Checksums: the archive sha256 values and sizes are those TensorFlow Datasets records for the same files
 * (`tensorflow/datasets`, `tensorflow_datasets/url_checksums/glue.txt`) and that Transformers.jl pins
 * (`chengchingwen/Transformers.jl`, `src/datasets/glue/*.jl`); QQP-clean.zip's is from Transformers.jl
 * (`qqp.jl`). AX.tsv, the two MSR files and mrpc_dev_ids.tsv have the same sha256 as the copies in
 * `shared/glue` (see its MANIFEST.md). The MRPC files the script builds from them have the sha256 of the
 * checksum-verified `shared/glue/MRPC/{train,dev,test}.tsv`.
 */

/** One file to fetch. `name` is also its name under a `--base-url` mirror. */
export interface RemoteFile {
  readonly name: string;
  readonly url: string;
  readonly sha256: string;
  /** Size in bytes when known (lets a complete partial download skip the request). */
  readonly bytes?: number;
}

/**
 * How a task's files are installed under the GLUE folder:
 * - `zip`: extract the archive, which holds the task folder (e.g. `CoLA/…`);
 * - `file`: save the one file as `target`;
 * - `mrpc`: save the MSR files and dev ids in MRPC/ and build train/dev/test.tsv as the official script does;
 *   its `files` are, in this order, the MSR train file, the MSR test file and the dev ids.
 */
export type InstallKind = 'zip' | 'file' | 'mrpc';

export interface TaskSource {
  /** Folder under the GLUE folder (also the name accepted by `data download --tasks`). */
  readonly folder: string;
  readonly kind: InstallKind;
  readonly files: readonly RemoteFile[];
  /** For kind `file`: the path, relative to the GLUE folder, to save the file as. */
  readonly target?: string;
  /** A file whose presence means the task is installed (relative to the GLUE folder). */
  readonly marker: string;
  /** sha256 of files the install step writes, when known (relative to the GLUE folder). */
  readonly outputs?: Readonly<Record<string, string>>;
}

const GLUE_DATA = 'https://dl.fbaipublicfiles.com/glue/data';
const SENTEVAL = 'https://dl.fbaipublicfiles.com/senteval/senteval_data';

function zipTask(folder: string, archive: string, sha256: string, bytes?: number): TaskSource {
  return {
    folder,
    kind: 'zip',
    files: [{ name: archive, url: `${GLUE_DATA}/${archive}`, sha256, ...(bytes !== undefined ? { bytes } : {}) }],
    marker: `${folder}/dev.tsv`,
  };
}

export const GLUE_SOURCES: readonly TaskSource[] = [
  zipTask('CoLA', 'CoLA.zip', 'f212fcd832b8f7b435fb991f101abf89f96b933ab400603bf198960dfc32cbff', 376971),
  zipTask('SST-2', 'SST-2.zip', 'd67e16fb55739c1b32cdce9877596db1c127dc322d93c082281f64057c16deaa', 7439277),
  {
    folder: 'MRPC',
    kind: 'mrpc',
    files: [
      {
        name: 'msr_paraphrase_train.txt',
        url: `${SENTEVAL}/msr_paraphrase_train.txt`,
        sha256: '60a9b09084528f0673eedee2b69cb941920f0b8cd0eeccefc464a98768457f89',
        bytes: 1047044,
      },
      {
        name: 'msr_paraphrase_test.txt',
        url: `${SENTEVAL}/msr_paraphrase_test.txt`,
        sha256: 'a04e271090879aaba6423d65b94950c089298587d9c084bf9cd7439bd785f784',
        bytes: 441275,
      },
      {
        name: 'mrpc_dev_ids.tsv',
        url: 'https://firebasestorage.googleapis.com/v0/b/mtl-sentence-representations.appspot.com/o/data%2Fmrpc_dev_ids.tsv?alt=media&token=ec5c0836-31d5-48f4-b431-7480817f1adc',
        sha256: '971d7767d81b997fd9060ade0ec23c4fc31cbb226a55d1bd4a1bac474eb81dc7',
        bytes: 6222,
      },
    ],
    marker: 'MRPC/dev.tsv',
    outputs: {
      'MRPC/train.tsv': '69abcedee3cf738c6ce58d772e43e1b7cdf5b4edee4aceda459c0d9f4e5599f3',
      'MRPC/dev.tsv': '9e8f284788040f7c9ecde2e1b3c07237c756f926bd9ef8548ef5d34b56f69f17',
      'MRPC/test.tsv': 'aee460ceda833926b8ab2ad952d399f5cf8bc9335cff19afcac03dc449558622',
    },
  },
  zipTask('QQP', 'QQP-clean.zip', '40e7c862c04eb26ee04b67fd900e76c45c6ba8e6d8fab4f8f1f8072a1a3fbae0'),
  zipTask('STS-B', 'STS-B.zip', 'e60a6393de5a8b5b9bac5020a1554b54e3691f9d600b775bd131e613ac179c85', 802872),
  { ...zipTask('MNLI', 'MNLI.zip', 'e7c1d896d26ed6caf700110645df426cc2d8ebf02a5ab743d5a5c68ac1c83633', 312783507), marker: 'MNLI/dev_matched.tsv' },
  zipTask('QNLI', 'QNLIv2.zip', 'e634e78627a29adaecd4f955359b22bf5e70f2cbd93b493f2d624138a0c0e5f5', 10627589),
  zipTask('RTE', 'RTE.zip', '6bf86de103ecd335f3441bd43574d23fef87ecc695977a63b82d5efb206556ee', 697150),
  zipTask('WNLI', 'WNLI.zip', 'ae0e8e4d16f4d46d4a0a566ec7ecceccfd3fbfaa4a7a4b4e02848c0f2561ac46', 28999),
  {
    folder: 'diagnostic',
    kind: 'file',
    files: [{ name: 'AX.tsv', url: `${GLUE_DATA}/AX.tsv`, sha256: '0e13510b1bb14436ff7e2ee82338f0efb0133ecf2e73507a697dc210db3f05fd', bytes: 222257 }],
    target: 'diagnostic/diagnostic.tsv',
    marker: 'diagnostic/diagnostic.tsv',
  },
];

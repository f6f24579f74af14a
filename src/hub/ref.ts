/**
 * Hugging Face hub model references: `hf:org/name`, `hf:name` (legacy repos without an organization), each with an
 * optional `@revision`, a branch, a tag (git ref names: `v1.0+cu118`, `refs/pr/1`) or a 40-hex commit (default `main`).
 * Validated as huggingface_hub validates repo ids, and revisions as git validates ref names, so a bad reference is a
 * one-line error before any request.
 */
import { existsSync } from 'node:fs';
import { HubError } from './errors.ts';
import { quotedText } from '../errors.ts';

/** The prefix that marks a model argument as a hub reference. */
export const HUB_PREFIX = 'hf:';

/** A parsed `hf:` reference. */
export interface HubRef {
  /** `org/name` or `name`. */
  readonly repo: string;
  /** Branch, tag or commit (default `main`). */
  readonly revision: string;
  /** The reference as written (for messages). */
  readonly text: string;
}

const NAME = /^[A-Za-z0-9_](?:[\w.-]{0,94}[A-Za-z0-9_])?$/;
const COMMIT = /^[0-9a-f]{40}$/;

/** Whether `s` is written as a hub reference (starts with `hf:`). */
export function isHubRef(s: string): boolean {
  return typeof s === 'string' && s.startsWith(HUB_PREFIX);
}

/**
 * The refusal of a model argument of a library call (evaluate's model, runTraining's student…) written as a hub
 * reference that is no local path (a folder of that name is read as it is): the library reads local models, where the
 * CLI downloads such a reference (src/cli/model-ref.ts), and resolveModelRef fetches it, as the CLI does; undefined
 * for any other value. Its words follow the option's name: 'model hf:org/x: a Hugging Face hub reference, …'.
 */
export function hubRefLibraryRefusal(v: unknown): string | undefined {
  if (typeof v !== 'string' || !isHubRef(v) || existsSync(v)) return undefined;
  const call = `resolveModelRef(${quotedText(v)})`;
  return `${v}: a Hugging Face hub reference, which the library does not download (it reads local models): fetch it first with ${call} (bert-compress), which downloads it into the Hugging Face cache (an ONNX export made once for a safetensors checkpoint) and returns its local folder, and give that`;
}

/**
 * A model option's kind (checkOptionKinds, src/library-args.ts) for a library call (evaluate's model, runTraining's
 * student, compressFile's input…): a local path, which an `hf:org/name` reference is not (hubRefLibraryRefusal:
 * resolveModelRef fetches it); its kind read by the call unless one is given beside it (`{ kind: 'string', ...LOCAL_MODEL }`).
 */
export const LOCAL_MODEL = { refuse: hubRefLibraryRefusal } as const;

/** Whether a revision is a full commit hash (40 lowercase hex digits). */
export function isCommitHash(revision: string): boolean {
  return COMMIT.test(revision);
}

/**
 * Whether a revision looks like a short commit hash (`2d0429d`: 4 to 39 lowercase hex digits). The hub's file URLs
 * take a full 40-hex commit, a branch or a tag; a revision the hub does not know that looks like this is most likely
 * an abbreviated commit, and the user is told to give it in full.
 */
export function isShortCommitHash(revision: string): boolean {
  return /^[0-9a-f]{4,39}$/.test(revision);
}

/** What to say of a revision the hub or the cache does not know: for a short commit hash, to give it in full. */
export function shortCommitHint(revision: string): string {
  return isShortCommitHash(revision) ? `; if ${quotedText(revision)} is a short commit hash, use the full 40-character commit hash` : '';
}

/**
 * What keeps `revision` from being a git ref name as git check-ref-format reads one (the hub's branches and tags are
 * git refs; huggingface_hub passes a revision on as written, quoted in URLs and as a path under the cache's refs/), or
 * undefined: 'v1.0+cu118', 'refs/pr/1' (a pull request's ref) and 'user@fix' are revisions. What git refuses keeps the
 * path under refs/ too: no '..', no component starting with '.', no leading '/'.
 */
function revisionProblem(revision: string): string | undefined {
  const bad = /[\x00-\x20\x7f~^:?*[\\]/.exec(revision);
  if (bad) return `cannot hold ${bad[0] === ' ' ? 'a space' : bad[0] < ' ' || bad[0] === '\x7f' ? 'a control character' : quotedText(bad[0])}`;
  if (revision.includes('..')) return "cannot hold '..'";
  if (revision.includes('@{')) return "cannot hold '@{'";
  if (revision === '@') return "cannot be '@'";
  if (revision.startsWith('/') || revision.endsWith('/') || revision.includes('//')) return "cannot start or end with '/' or hold '//'";
  if (revision.endsWith('.')) return "cannot end with '.'";
  if (revision.split('/').some((c) => c.startsWith('.') || c.endsWith('.lock'))) return "cannot have a part starting with '.' or ending with '.lock'";
  return undefined;
}

/** Parses and validates `hf:org/name[@revision]`; a HubError naming the fault otherwise. */
export function parseHubRef(text: string): HubRef {
  if (!isHubRef(text)) throw new HubError(`${text}: not a hub reference (expected hf:org/name[@revision])`);
  const body = text.slice(HUB_PREFIX.length);
  const at = body.indexOf('@');
  const repo = at < 0 ? body : body.slice(0, at);
  const revision = at < 0 ? 'main' : body.slice(at + 1);
  const fail = (why: string): never => {
    throw new HubError(`${text}: ${why} (expected hf:org/name[@revision], e.g. hf:google-bert/bert-base-uncased@main)`);
  };
  if (!repo) fail('no repo name');
  const parts = repo.split('/');
  if (parts.length > 2) fail(`repo ${quotedText(repo)} has more than one '/'`);
  for (const p of parts) {
    if (!NAME.test(p)) fail(`${quotedText(p)} is not a valid repo or organization name (letters, digits, '-', '_', '.'; at most 96)`);
    if (p.includes('--') || p.includes('..')) fail(`${quotedText(p)} must not contain '--' or '..'`);
  }
  if (at >= 0) {
    if (!revision) fail("empty revision after '@'");
    const problem = revisionProblem(revision);
    if (problem) fail(`${quotedText(revision)} is not a valid revision: a git branch or tag name ${problem}`);
  }
  return { repo, revision, text };
}

/** `models--org--name`: the repo's folder in the hub cache, as huggingface_hub names it. */
export function repoFolderName(repo: string): string {
  return `models--${repo.replaceAll('/', '--')}`;
}

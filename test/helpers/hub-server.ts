/**
 * A hub-like HTTP server on 127.0.0.1 for the hub tests, speaking the protocol huggingface_hub uses:
 * `GET /api/models/{repo}/revision/{rev}[?blobs=true]` (JSON: sha, siblings with rfilename, size, blobId and for
 * LFS files lfs.{sha256,size}) and `GET|HEAD /{repo}/resolve/{rev}/{path}` with ETag, X-Repo-Commit and, for LFS
 * files, X-Linked-Etag / X-Linked-Size and a 302 redirect to `/cdn/<sha256>` as the real hub's CDN redirect.
 * Range requests get 206 answers (unless `ignoreRange`), a repo can require a token, a response can be cut off
 * halfway once or stall there, a request can go unanswered, served bytes can be tampered with, a repo's text files can be served gzip-compressed, and every
 * request is recorded.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendRange } from './serve-range.ts';

export interface HubRequest {
  method: string;
  /** URL path, decoded, without the query. */
  path: string;
  range?: string;
  authorization?: string;
  acceptEncoding?: string;
  /** 'api' | 'resolve' | 'cdn' | 'other'. */
  kind: string;
  /** For resolve and cdn requests: the repo file path (cdn: the one it was redirected for). */
  file?: string;
}

export interface RepoOptions {
  /** Branches / tags pointing at this commit (default ['main']). */
  revisions?: string[];
  /** Files stored in LFS (default: .safetensors, .onnx, .onnx_data, .bin files). */
  lfs?: (path: string) => boolean;
  /** Require `Authorization: Bearer <token>` for the repo. */
  token?: string;
  /** A gated repo: its API answers, its files get 403 GatedRepo (as for an account that has not been granted access). */
  gated?: boolean;
  /** The API lists file names only, as a mirror that ignores `?blobs=true` (checksums then come from HEAD requests). */
  namesOnly?: boolean;
  /**
   * Files not in LFS are answered gzip-compressed (`Content-Encoding: gzip`, its Content-Length the compressed size,
   * Range ignored) to a request that accepts gzip, as the hub serves compressible text files (vocab.json, config.json).
   */
  gzip?: boolean;
}

export interface HubServer {
  readonly baseUrl: string;
  readonly requests: HubRequest[];
  /** Adds a commit of `repo` holding `files`; returns its 40-hex sha. */
  addCommit(repo: string, files: Readonly<Record<string, Buffer>>, opts?: RepoOptions): string;
  /** The next GET of `file` sends `bytes` bytes of its body, then drops the connection. */
  cutNext(file: string, bytes: number): void;
  /** The next GET of `file` (of the API when `file` is 'api') sends `bytes` bytes of its body, then nothing more, leaving the connection open. */
  stallNext(file: string, bytes: number): void;
  /** The next `times` requests of `file`, or of the API when `file` is 'api', get no answer at all (the connection left open). */
  hangNext(file: string, times: number): void;
  /**
   * The next `times` requests of `file` (a resolve or cdn request for it), or of the API when `file` is 'api', are
   * answered `status` with `headers` (e.g. 503, or 429 with Retry-After) instead.
   */
  failNext(file: string, status: number, times: number, headers?: Record<string, string>): void;
  /** Serve these bytes for `file` instead of the committed ones (the API still advertises the committed checksum); undefined: the committed ones again. */
  tamper(file: string, bytes: Buffer | undefined): void;
  /** Answer range requests with 200 and the whole file. */
  ignoreRange: boolean;
  /** Requests for file contents (GET resolve without redirect, or GET cdn), optionally of one file. */
  fileDownloads(file?: string): HubRequest[];
  close(): Promise<void>;
}

interface Entry {
  bytes: Buffer;
  lfs: boolean;
  sha256: string;
  gitSha1: string;
}

interface Commit {
  repo: string;
  sha: string;
  files: Map<string, Entry>;
  token?: string;
  gated?: boolean;
  namesOnly?: boolean;
  gzip?: boolean;
}

const defaultLfs = (p: string) => /\.(safetensors|onnx|onnx_data|bin)$/.test(p);

export async function serveHub(): Promise<HubServer> {
  const requests: HubRequest[] = [];
  const commits = new Map<string, Commit>(); // by sha
  const refs = new Map<string, Map<string, string>>(); // repo → revision → sha
  const cuts = new Map<string, number>();
  const stalls = new Map<string, number>();
  const hangs = new Map<string, number>();
  /** Leaves the request unanswered when hangNext asked it for `key`; true when it did. */
  const hung = (key: string | undefined): boolean => {
    const left = key === undefined ? 0 : (hangs.get(key) ?? 0);
    if (left <= 0) return false;
    hangs.set(key!, left - 1);
    return true;
  };
  const tampered = new Map<string, Buffer>();
  const failures = new Map<string, { status: number; times: number; headers: Record<string, string> }>();
  /** Answers with the failure set for `key` by failNext, if any is left; true when it did. */
  const failed = (res: ServerResponse, key: string | undefined): boolean => {
    const f = key === undefined ? undefined : failures.get(key);
    if (!f || f.times <= 0) return false;
    f.times--;
    res.writeHead(f.status, f.headers).end(`HTTP ${f.status}`);
    return true;
  };
  const byLfs = new Map<string, Entry>(); // sha256 → entry, for the cdn
  const state = { ignoreRange: false };

  const commitOf = (repo: string, rev: string): Commit | undefined => {
    const sha = /^[0-9a-f]{40}$/.test(rev) ? rev : refs.get(repo)?.get(rev);
    const c = sha ? commits.get(sha) : undefined;
    return c && c.repo === repo ? c : undefined;
  };
  const authorized = (c: Commit, req: IncomingMessage) => !c.token || req.headers.authorization === `Bearer ${c.token}`;
  const fail = (res: ServerResponse, status: number, code: string) => res.writeHead(status, { 'X-Error-Code': code }).end(code);

  const sendBytes = (req: IncomingMessage, res: ServerResponse, file: string, data: Buffer, headers: Record<string, string>, gzip = false) => {
    let body = tampered.get(file) ?? data;
    const cut = cuts.get(file);
    if (cut !== undefined && req.method !== 'HEAD') cuts.delete(file);
    const stall = req.method !== 'HEAD' ? stalls.get(file) : undefined;
    if (stall !== undefined) stalls.delete(file);
    const compressed = gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    if (compressed) body = gzipSync(body);
    sendRange(req, res, body, {
      ignoreRange: state.ignoreRange || compressed,
      headers: compressed ? { ...headers, 'Content-Encoding': 'gzip' } : headers,
      ...(cut !== undefined ? { cutAt: cut } : {}),
      ...(stall !== undefined ? { stallAt: stall } : {}),
    });
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(url.pathname);
    const record: HubRequest = { method: req.method ?? 'GET', path, kind: 'other' };
    if (req.headers.range) record.range = req.headers.range;
    if (req.headers.authorization) record.authorization = req.headers.authorization;
    if (req.headers['accept-encoding']) record.acceptEncoding = req.headers['accept-encoding'];
    requests.push(record);
    let m = /^\/api\/models\/(.+)\/revision\/(.+)$/.exec(path);
    if (m) {
      record.kind = 'api';
      if (hung('api') || failed(res, 'api')) return;
      const [, repo, rev] = m;
      if (!refs.has(repo!)) return fail(res, 404, 'RepoNotFound');
      const c = commitOf(repo!, rev!);
      const any = [...commits.values()].find((x) => x.repo === repo);
      if (any && !authorized(c ?? any, req)) return fail(res, 401, 'RepoNotFound');
      if (!c) return fail(res, 404, 'RevisionNotFound');
      const blobs = url.searchParams.get('blobs') === 'true' && !c.namesOnly;
      const siblings = [...c.files].map(([name, e]) =>
        blobs
          ? {
              rfilename: name,
              size: e.bytes.length,
              blobId: e.gitSha1,
              ...(e.lfs ? { lfs: { sha256: e.sha256, size: e.bytes.length, pointerSize: 130 } } : {}),
            }
          : { rfilename: name },
      );
      const json = Buffer.from(JSON.stringify({ id: repo, modelId: repo, sha: c.sha, siblings }));
      const stall = stalls.get('api');
      stalls.delete('api');
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(json.length) });
      if (stall !== undefined) res.write(json.subarray(0, stall));
      else res.end(json);
      return;
    }
    m = /^\/cdn\/([0-9a-f]{64})$/.exec(path);
    if (m) {
      record.kind = 'cdn';
      const e = byLfs.get(m[1]!);
      if (!e) return fail(res, 404, 'EntryNotFound');
      const file = [...commits.values()].flatMap((c) => [...c.files].filter(([, x]) => x === e).map(([n]) => n))[0]!;
      record.file = file;
      if (hung(file) || failed(res, file)) return;
      // a CDN's own ETag (S3's: the MD5), not the hub's checksum
      return sendBytes(req, res, file, e.bytes, { ETag: `"${createHash('md5').update(e.bytes).digest('hex')}"` });
    }
    m = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (m) {
      record.kind = 'resolve';
      const [, repo, rev, file] = m;
      record.file = file;
      if (hung(file) || failed(res, file)) return;
      const c = commitOf(repo!, rev!);
      if (!c) return fail(res, refs.has(repo!) ? 404 : 401, refs.has(repo!) ? 'RevisionNotFound' : 'RepoNotFound');
      if (!authorized(c, req)) return fail(res, 401, 'RepoNotFound');
      if (c.gated) return fail(res, 403, 'GatedRepo');
      const e = c.files.get(file!);
      if (!e) return fail(res, 404, 'EntryNotFound');
      const headers: Record<string, string> = { 'X-Repo-Commit': c.sha, ETag: `"${e.lfs ? e.sha256 : e.gitSha1}"` };
      if (e.lfs) {
        headers['X-Linked-Etag'] = `"${e.sha256}"`;
        headers['X-Linked-Size'] = String(e.bytes.length);
        headers.Location = `/cdn/${e.sha256}`;
        res.writeHead(302, headers).end();
        return;
      }
      return sendBytes(req, res, file!, e.bytes, headers, c.gzip);
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    addCommit(repo, files, opts = {}) {
      const lfs = opts.lfs ?? defaultLfs;
      const entries = new Map<string, Entry>();
      for (const [name, bytes] of Object.entries(files)) {
        const e: Entry = {
          bytes,
          lfs: lfs(name),
          sha256: createHash('sha256').update(bytes).digest('hex'),
          gitSha1: createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex'),
        };
        entries.set(name, e);
        if (e.lfs) byLfs.set(e.sha256, e);
      }
      const sha = createHash('sha1')
        .update(`${repo}\0${commits.size}\0${[...entries].map(([n, e]) => `${n}:${e.gitSha1}`).join(',')}`)
        .digest('hex');
      commits.set(sha, {
        repo,
        sha,
        files: entries,
        ...(opts.token ? { token: opts.token } : {}),
        ...(opts.gated ? { gated: true } : {}),
        ...(opts.namesOnly ? { namesOnly: true } : {}),
        ...(opts.gzip ? { gzip: true } : {}),
      });
      if (!refs.has(repo)) refs.set(repo, new Map());
      for (const r of opts.revisions ?? ['main']) refs.get(repo)!.set(r, sha);
      return sha;
    },
    cutNext: (file, bytes) => cuts.set(file, bytes),
    stallNext: (file, bytes) => stalls.set(file, bytes),
    hangNext: (file, times) => hangs.set(file, times),
    failNext: (file, status, times, headers = {}) => failures.set(file, { status, times, headers }),
    tamper: (file, bytes) => (bytes ? tampered.set(file, bytes) : tampered.delete(file)),
    get ignoreRange() {
      return state.ignoreRange;
    },
    set ignoreRange(v: boolean) {
      state.ignoreRange = v;
    },
    fileDownloads: (file) =>
      requests.filter(
        (r) => r.method === 'GET' && (r.kind === 'cdn' || (r.kind === 'resolve' && r.file !== undefined && !defaultLfsServed(r))) && (!file || r.file === file),
      ),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };

  /** A resolve request that was answered with a redirect (an LFS file) rather than bytes. */
  function defaultLfsServed(r: HubRequest): boolean {
    for (const c of commits.values()) {
      const e = c.files.get(r.file!);
      if (e && r.path.startsWith(`/${c.repo}/resolve/`)) return e.lfs;
    }
    return false;
  }
}

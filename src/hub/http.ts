/**
 * Requests to the hub: the bearer token on every request, connection failures and HTTP errors turned into one-line
 * HubErrors that say what to do (401: set HF_TOKEN; 403: gated; 404: no such repo, revision or file), from the
 * status and the hub's `X-Error-Code` header. A busy or briefly failing hub (429, 5xx) is asked again a few times,
 * after the pause its RateLimit or Retry-After header asks for (else 1, 2, 4 s), before its answer becomes the error. A server that does
 * not answer within HF_HUB_DOWNLOAD_TIMEOUT (a HEAD: HF_HUB_ETAG_TIMEOUT) is given up as one that cannot be reached.
 */
import { type StallWait, causeMessage, fetchRetrying, requestedWaitMs, triesOf } from '../ranged-download.ts';
import { HubError } from './errors.ts';
import { quotedText } from '../errors.ts';
import { shortCommitHint } from './ref.ts';
import { type HubSettings, waitOrDefaultMs } from './settings.ts';

/** The `fetch` used (the global one: undici), replaceable for tests. */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

/** What a request was for, so its error can say which repo, revision or file is missing. */
export interface RequestContext {
  /** The reference as written. */
  label: string;
  repo: string;
  revision: string;
  /** Set for a file request. */
  file?: string;
}

/** A connection failure (not an HTTP answer): the cause's message, which Node hides under `fetch failed`. */
export class HubConnectionError extends HubError {
  override name = 'HubConnectionError';
}

/** Headers of a hub request: the bearer token when set, and any extra ones. */
export function hubHeaders(settings: HubSettings, extra: Record<string, string> = {}): Record<string, string> {
  return { ...(settings.token ? { Authorization: `Bearer ${settings.token}` } : {}), 'User-Agent': 'bert-compress', ...extra };
}

/** Which wait a request has: a download's or the API's (HF_HUB_DOWNLOAD_TIMEOUT), or a file HEAD's (HF_HUB_ETAG_TIMEOUT). */
export type WaitKind = 'download' | 'etag';

/** How long a request of `kind` waits for an answer (and a download for its next bytes), and the variable that sets it. */
function waitOf(settings: HubSettings, kind: WaitKind = 'download'): { ms: number; variable: string } {
  return kind === 'etag'
    ? { ms: waitOrDefaultMs(settings.etagTimeoutMs), variable: 'HF_HUB_ETAG_TIMEOUT' }
    : { ms: waitOrDefaultMs(settings.downloadTimeoutMs), variable: 'HF_HUB_DOWNLOAD_TIMEOUT' };
}

/** What a wait that ran out says: `no answer within 10 s, the wait HF_HUB_DOWNLOAD_TIMEOUT sets`. */
function silenceMessage(what: string, wait: { ms: number; variable: string }): string {
  return `${what} within ${wait.ms / 1000} s, the wait ${wait.variable} sets`;
}

/** How long a body (a download's, the API's JSON) may send nothing before it is broken off, and what that then says. */
export function bodyStall(settings: HubSettings): StallWait {
  const wait = waitOf(settings);
  return { ms: wait.ms, message: silenceMessage('no data', wait) };
}

/** What a message about a hub that cannot be reached advises. */
export const NETWORK_ADVICE = 'check HF_ENDPOINT and the network, or set HF_HUB_OFFLINE=1 to use cached models';

/** Tries after the first while the hub answers 429 or 5xx. */
const RETRIES = 3;

/** Where a request's messages start: the reference, and the file when it is a file's. */
function whereOf(ctx: RequestContext): string {
  return `${ctx.label}${ctx.file ? ` (${ctx.file})` : ''}`;
}

/**
 * Sends a request, again after a pause while the hub answers 429 or 5xx (each pause logged on `log`); a connection
 * failure, or no answer within the wait of `kind` (waitOf), becomes a HubConnectionError naming the endpoint. The
 * wait ends once the answer's headers are in: reading its body is the caller's (see downloadBlob, fetchRepoInfo).
 */
export async function hubFetch(
  url: string,
  init: RequestInit,
  settings: HubSettings,
  ctx: RequestContext,
  fetchImpl: FetchLike = fetch,
  log?: (line: string) => void,
  kind: WaitKind = 'download',
): Promise<Response> {
  const wait = waitOf(settings, kind);
  const send = async () => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(silenceMessage('no answer', wait))), wait.ms);
    try {
      return await fetchImpl(url, { ...init, signal: controller.signal });
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    return await fetchRetrying(send, {
      retries: RETRIES,
      onRetry: (res, waitMs, nextTry) =>
        log?.(
          `${whereOf(ctx)}: the hub answered HTTP ${res.status} ${res.statusText}; trying again in ${Math.round(waitMs / 1000)} s (try ${nextTry} of ${RETRIES + 1})`,
        ),
    });
  } catch (e) {
    throw new HubConnectionError(`${ctx.label}: cannot reach ${settings.endpoint} (${causeMessage(e)}); ${NETWORK_ADVICE}`, {
      cause: e,
    });
  }
}

/** The HubError for an HTTP answer that is not a success (the body is cancelled). */
export async function httpError(res: Response, settings: HubSettings, ctx: RequestContext): Promise<HubError> {
  await res.body?.cancel().catch(() => {});
  const code = res.headers.get('x-error-code') ?? '';
  const where = whereOf(ctx);
  const tokenNote = settings.token ? `the token from ${settings.tokenSource ?? 'HF_TOKEN'} was sent` : 'no token was sent';
  switch (res.status) {
    case 401:
      return new HubError(
        settings.token
          ? `${where}: the hub refused the token from ${settings.tokenSource ?? 'HF_TOKEN'} (401): it is invalid or has no access to ${ctx.repo}, or the repo does not exist`
          : `${where}: the hub answered 401: ${ctx.repo} is private or gated (set HF_TOKEN to a token with access, or write it to $HF_HOME/token) or does not exist`,
      );
    case 403:
      return new HubError(
        `${where}: access denied (403${code ? ` ${code}` : ''}): ${ctx.repo} is gated or private; request access on the hub and set HF_TOKEN to a token of an account that has it (${tokenNote})`,
      );
    case 404:
      if (code === 'RevisionNotFound')
        return new HubError(`${where}: no revision ${quotedText(ctx.revision)} (branch, tag or commit) in ${ctx.repo}${shortCommitHint(ctx.revision)}`);
      if (ctx.file || code === 'EntryNotFound') return new HubError(`${where}: no file ${quotedText(ctx.file ?? '?')} in ${ctx.repo} at ${ctx.revision}`);
      return new HubError(
        `${where}: no such repo ${quotedText(ctx.repo)} on ${settings.endpoint} (or no revision ${quotedText(ctx.revision)}${shortCommitHint(ctx.revision)})`,
      );
    case 429: {
      const wait = requestedWaitMs(res);
      return new HubError(
        `${where}: the hub is limiting the rate of requests (HTTP 429${triesOf(res) > 1 ? `, ${triesOf(res)} tries` : ''}): wait ${wait ? `${Math.ceil(wait / 1000)} s` : 'a few minutes'} and run again${settings.token ? '' : ', or set HF_TOKEN (requests with a token get a higher limit)'}`,
      );
    }
    case 500:
    case 502:
    case 503:
    case 504: {
      const wait = requestedWaitMs(res);
      const tries = triesOf(res);
      return new HubError(
        `${where}: the hub answered HTTP ${res.status} ${res.statusText}${tries > 1 ? ` ${tries} times` : ''} (${res.url ? new URL(res.url).origin : settings.endpoint}); ${wait ? `run again in ${Math.ceil(wait / 1000)} s` : 'it may be down, run again later'}`,
      );
    }
    default:
      return new HubError(`${where}: ${res.url || settings.endpoint} answered HTTP ${res.status} ${res.statusText}`.trim());
  }
}

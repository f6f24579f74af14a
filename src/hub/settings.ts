/**
 * Hub settings from the environment, read as huggingface_hub reads them: `HF_ENDPOINT` (default
 * https://huggingface.co), `HF_TOKEN` (else the file `$HF_HOME/token`), the cache `HF_HUB_CACHE`, else
 * `$HF_HOME/hub`, else `~/.cache/huggingface/hub` (`$XDG_CACHE_HOME/huggingface/hub` when set), and
 * `HF_HUB_OFFLINE` (1/true/yes/on: never touch the network, use the cache only); the older names huggingface_hub
 * still reads, `HUGGINGFACE_HUB_CACHE` and `TRANSFORMERS_OFFLINE`, when the new ones are unset; and how long a request
 * waits on a silent server, `HF_HUB_DOWNLOAD_TIMEOUT` (downloads and the API) and `HF_HUB_ETAG_TIMEOUT` (a file's
 * HEAD), 10 s each by default (also when 0).
 */
import { readFileSync } from 'node:fs';
import {
  fsReason,
  type NumberRange,
  numberOfText,
  numberProblem,
  SettingsError,
  UsageError,
  TOO_SMALL_TO_HOLD,
  tooSmallToHold,
  typedValueText,
  valueAndKind,
} from '../errors.ts';
import { checkHttpUrl } from '../ranged-download.ts';
import { environmentValue, expandedPath } from '../environment.ts';
import { MAX_TIMER_MS } from '../timers.ts';

/** The seconds a timeout variable takes (0: its default), in the one number wording: 'a number of seconds 0 or greater'. */
const TIMEOUT_RANGE: NumberRange = { min: 0, unit: 'seconds', note: '(0: the default)' };

export interface HubSettings {
  /** Base URL without a trailing slash. */
  endpoint: string;
  /** Bearer token for private and gated repos, when one is set. */
  token?: string;
  /** Where the token came from, for messages (`HF_TOKEN` or the token file's path). */
  tokenSource?: string;
  /** The hub cache folder (holding `models--org--name/`). */
  cacheDir: string;
  offline: boolean;
  /** The variable that turned offline mode on (`HF_HUB_OFFLINE`, or the older `TRANSFORMERS_OFFLINE`), for messages. */
  offlineVariable?: string;
  /**
   * How long a download or API request waits for the server's answer, and a download for its next bytes, before it
   * is given up (a download then resumes): `HF_HUB_DOWNLOAD_TIMEOUT` seconds (default DEFAULT_TIMEOUT_S).
   */
  downloadTimeoutMs?: number;
  /** How long a file's HEAD request (its checksum) waits for the answer: `HF_HUB_ETAG_TIMEOUT` seconds (default DEFAULT_TIMEOUT_S). */
  etagTimeoutMs?: number;
}

/** huggingface_hub's default of HF_HUB_DOWNLOAD_TIMEOUT and HF_HUB_ETAG_TIMEOUT, in seconds. */
export const DEFAULT_TIMEOUT_S = 10;

/**
 * A wait in milliseconds, DEFAULT_TIMEOUT_S when there is none: its variable unset (or 0), or settings a caller built
 * without it (the one place the default is applied).
 */
export function waitOrDefaultMs(ms: number | undefined): number {
  return ms ?? DEFAULT_TIMEOUT_S * 1000;
}

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

/** Whether an environment flag is on, as huggingface_hub reads them (1, true, yes, on; any case). */
export function envFlag(value: string | undefined): boolean {
  return ['1', 'true', 'yes', 'on'].includes((value ?? '').trim().toLowerCase());
}

/** The settings the environment `env` gives (default: this process's). */
export function hubSettings(env: NodeJS.ProcessEnv = process.env): HubSettings {
  if (typeof env !== 'object' || env === null || Array.isArray(env)) {
    throw new SettingsError(`hubSettings: env: expected the environment's variables (process.env), got ${valueAndKind(env)}`);
  }
  // (each folder and file as huggingface_hub reads it, `~` and `$NAME` expanded: expandedPath; joined as it joins them:
  // pythonJoin; the default cache in `~` as expanduser reads it, `env`'s HOME: an empty HOME is the root folder, where
  // the home folder Node gives for it, '', named a folder .cache in the working folder)
  // (each with the variable it comes from, for a refusal: givenBy)
  const homeFrom = givenBy(env, ['HF_HOME', 'XDG_CACHE_HOME'], 'HOME');
  const home = expandedPath(
    environmentValue(env, 'HF_HOME') ??
      pythonJoin(environmentValue(env, 'XDG_CACHE_HOME') ?? pythonJoin(expandedPath('~', env, 'HOME'), '.cache'), 'huggingface'),
    env,
    homeFrom,
  );
  const settings: HubSettings = {
    endpoint: (environmentValue(env, 'HF_ENDPOINT') ?? DEFAULT_ENDPOINT).replace(/\/+$/, ''),
    cacheDir: expandedPath(
      environmentValue(env, 'HF_HUB_CACHE') ?? environmentValue(env, 'HUGGINGFACE_HUB_CACHE') ?? pythonJoin(home, 'hub'),
      env,
      givenBy(env, ['HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE'], homeFrom),
    ),
    offline: envFlag(environmentValue(env, 'HF_HUB_OFFLINE') ?? env.TRANSFORMERS_OFFLINE),
  };
  // (a base no request could be sent to, where each request said 'cannot reach notaurl (ERR_INVALID_URL); check HF_ENDPOINT
  // and the network'; offline, none is sent; the value as typed, not the endpoint without its trailing slashes:
  // 'https://' is no URL, and no 'https:' was given)
  const endpoint = environmentValue(env, 'HF_ENDPOINT');
  if (!settings.offline && endpoint !== undefined) checkHttpUrl(endpoint, 'HF_ENDPOINT');
  settings.downloadTimeoutMs = waitOrDefaultMs(timeoutMs(env, 'HF_HUB_DOWNLOAD_TIMEOUT'));
  settings.etagTimeoutMs = waitOrDefaultMs(timeoutMs(env, 'HF_HUB_ETAG_TIMEOUT'));
  if (settings.offline) settings.offlineVariable = environmentValue(env, 'HF_HUB_OFFLINE') !== undefined ? 'HF_HUB_OFFLINE' : 'TRANSFORMERS_OFFLINE';
  const token = environmentValue(env, 'HF_TOKEN') ?? environmentValue(env, 'HUGGING_FACE_HUB_TOKEN');
  if (token) {
    settings.token = token;
    settings.tokenSource = environmentValue(env, 'HF_TOKEN') !== undefined ? 'HF_TOKEN' : 'HUGGING_FACE_HUB_TOKEN';
  } else {
    const file = expandedPath(environmentValue(env, 'HF_TOKEN_PATH') ?? pythonJoin(home, 'token'), env, givenBy(env, ['HF_TOKEN_PATH'], homeFrom));
    const fromFile = readTokenFile(file, environmentValue(env, 'HF_TOKEN_PATH') ? 'HF_TOKEN_PATH' : '$HF_HOME/token');
    if (fromFile) {
      settings.token = fromFile;
      settings.tokenSource = file;
    }
  }
  return settings;
}

/**
 * The folder `folder` (a variable's value, maybe with a `~` or `$NAME` still to expand) and `name` in it, joined as
 * huggingface_hub joins them (Python's os.path.join on POSIX: a `/` between them, nothing normalized), where path.join
 * normalized the value before it was expanded: XDG_CACHE_HOME='~/../cache' or '$DISK/../cache' lost its `~/..` or
 * `$DISK/..` and named 'cache/huggingface', a folder in the working folder.
 */
function pythonJoin(folder: string, name: string): string {
  return folder === '' || folder.endsWith('/') ? `${folder}${name}` : `${folder}/${name}`;
}

/** The first of `names` that `env` sets (environmentValue), else `otherwise`: the variable a hub folder's value comes from. */
function givenBy(env: NodeJS.ProcessEnv, names: readonly string[], otherwise: string): string {
  return names.find((name) => environmentValue(env, name) !== undefined) ?? otherwise;
}

/**
 * A timeout variable's seconds in milliseconds (undefined, the default, when unset, empty or 0, as huggingface_hub's
 * `_as_int(…) or DEFAULT_…_TIMEOUT` reads it), at most MAX_TIMER_MS (a wait set past it, `HF_HUB_DOWNLOAD_TIMEOUT=99999999`
 * for "never give up", waits that long); a UsageError (the user's setting, as a flag's value: exit 2) when not a number of seconds written in decimal (numberOfText,
 * as every flag reads numbers: `0x10` is no 16 s), below 0, or too small for a number (tooSmallToHold: `1e-400`, which
 * reads as 0: not the default unsaid); the value shown as every refused number is (typedValueText: `-3`, `1e-400` bare, `'0x10'` quoted).
 */
function timeoutMs(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = environmentValue(env, name);
  if (text === undefined) return undefined;
  const seconds = numberOfText(text);
  if (tooSmallToHold(text)) {
    // (a wait too short for a number to hold, `1e-400`: read as 0, it took the default 10 s unsaid)
    throw new UsageError(`${name} ${typedValueText(text)}: ${TOO_SMALL_TO_HOLD}; write 0 for the default`);
  }
  if (seconds === 0) return undefined;
  const problem = numberProblem(seconds, TIMEOUT_RANGE);
  if (problem !== undefined) throw new UsageError(`${name} ${typedValueText(text)}: ${problem} ${TIMEOUT_RANGE.note}`);
  return Math.min(seconds * 1000, MAX_TIMER_MS);
}

/**
 * The token a token file holds, '' when there is no such file (as huggingface_hub reads it); a SettingsError naming
 * the file and `source` when it cannot be read (a folder, no permission).
 */
function readTokenFile(file: string, source: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new SettingsError(`${file}: cannot read the hub token file (${source}): ${fsReason(e)}; set HF_TOKEN to the token instead`, { cause: e });
  }
}

/**
 * Hub settings from the environment, read as huggingface_hub reads them: `HF_ENDPOINT` (default
 * https://huggingface.co), `HF_TOKEN` (else the file `$HF_HOME/token`), the cache `HF_HUB_CACHE`, else
 * `$HF_HOME/hub`, else `~/.cache/huggingface/hub` (`$XDG_CACHE_HOME/huggingface/hub` when set), and
 * `HF_HUB_OFFLINE` (1/true/yes/on: never touch the network, use the cache only); the older names huggingface_hub
 * still reads, `HUGGINGFACE_HUB_CACHE` and `TRANSFORMERS_OFFLINE`, when the new ones are unset.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SettingsError } from '../errors.ts';
import { shownArg } from '../library-args.ts';

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
}

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

/** Whether an environment flag is on, as huggingface_hub reads them (1, true, yes, on; any case). */
export function envFlag(value: string | undefined): boolean {
  return ['1', 'true', 'yes', 'on'].includes((value ?? '').trim().toLowerCase());
}

/** The settings the environment `env` gives (default: this process's). */
export function hubSettings(env: NodeJS.ProcessEnv = process.env): HubSettings {
  if (typeof env !== 'object' || env === null || Array.isArray(env)) {
    throw new SettingsError(`hubSettings: env: expected the environment's variables (process.env), got ${shownArg(env)}`);
  }
  const nonEmpty = (v: string | undefined) => (v?.trim() ? v.trim() : undefined);
  const home = nonEmpty(env.HF_HOME) ?? join(nonEmpty(env.XDG_CACHE_HOME) ?? join(homedir(), '.cache'), 'huggingface');
  const settings: HubSettings = {
    endpoint: (nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_ENDPOINT).replace(/\/+$/, ''),
    cacheDir: nonEmpty(env.HF_HUB_CACHE) ?? nonEmpty(env.HUGGINGFACE_HUB_CACHE) ?? join(home, 'hub'),
    offline: envFlag(nonEmpty(env.HF_HUB_OFFLINE) ?? env.TRANSFORMERS_OFFLINE),
  };
  if (settings.offline) settings.offlineVariable = nonEmpty(env.HF_HUB_OFFLINE) !== undefined ? 'HF_HUB_OFFLINE' : 'TRANSFORMERS_OFFLINE';
  const token = nonEmpty(env.HF_TOKEN) ?? nonEmpty(env.HUGGING_FACE_HUB_TOKEN);
  if (token) {
    settings.token = token;
    settings.tokenSource = env.HF_TOKEN?.trim() ? 'HF_TOKEN' : 'HUGGING_FACE_HUB_TOKEN';
  } else {
    const file = nonEmpty(env.HF_TOKEN_PATH) ?? join(home, 'token');
    const fromFile = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
    if (fromFile) {
      settings.token = fromFile;
      settings.tokenSource = file;
    }
  }
  return settings;
}

/**
 * How bert-compress reads the environment variables it takes (BERT_COMPRESS_ORT_LOG_LEVEL, BERT_COMPRESS_MACHINE_LOAD,
 * GLUE_BASE_URL, the hub's HF_* variables): one rule for all of them; and how a folder one gives is expanded
 * (expandedPath: a `~`, `~user` or `$NAME` a shell did not expand).
 */
import { homedir } from 'node:os';
import { quotedText, UsageError } from './errors.ts';
import { PASSWD_FILE, userHomeFolder } from './user-home.ts';

/**
 * The value of the environment variable `name` in `env` without the blanks around it; undefined where it is unset,
 * empty or blank (`X=' '` is unset, as `X=` is; `X=' off '` is off), as the hub's variables are read.
 */
export function environmentValue(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/**
 * A folder or file `path` an environment variable gives, as huggingface_hub reads HF_HOME, HF_HUB_CACHE and
 * HF_TOKEN_PATH (os.path.expanduser, then os.path.expandvars): a leading `~` alone or before a `/` as the home folder
 * (`env`'s HOME, else this user's), a leading `~user` as that user's (userHome: the system's user list, where it was
 * kept as written, a folder `~user` in the working folder), then each `$NAME` or `${NAME}` that `env` sets as its
 * value, any other kept as written; where a value a shell did not expand (a Dockerfile's `ENV HF_HOME=~/hf`, a quoted
 * `'~/hf'`) named a folder `~` in the working folder, another cache than huggingface_hub's. A name is ASCII letters,
 * digits and `_` (Python's `\w` under re.ASCII, as expandvars compiles it): `$DISKé` is `$DISK` and `é`. `variable`
 * names where `path` comes from, for userHome's refusal. The hub's folder variables (src/hub/settings.ts) and
 * bert-compress's own (environmentPath: XDG_CACHE_HOME is one value for both caches) are read so.
 */
export function expandedPath(path: string, env: NodeJS.ProcessEnv, variable: string): string {
  const tilde = /^~([^/]*)/.exec(path);
  let expanded = path;
  if (tilde) {
    const user = tilde[1]!;
    const home = user === '' ? (env.HOME ?? homedir()) : userHome(user, path, variable);
    expanded = `${home.replace(/\/+$/, '')}${path.slice(tilde[0].length)}` || '/';
  }
  return expanded.replace(/\$(\w+|\{[^}]*\})/g, (written, name: string) => {
    const key = name.startsWith('{') ? name.slice(1, -1) : name;
    const value = Object.hasOwn(env, key) ? env[key] : undefined;
    return typeof value === 'string' ? value : written;
  });
}

/**
 * A command-line word whose leading `~` or `~user` no shell expanded, read as bash reads an unquoted one: a quoted
 * path (`-o "~/my models/m.onnx"`, quoted for its space) or a flag's value after `=` (`--out=~/report`, where bash
 * expands no tilde) named a folder `~` in the working folder, which a command made and wrote into. A `~` alone or
 * before a `/` is `env`'s HOME (else this user's home folder), a `~user` that user's (userHomeFolder); a word whose
 * `~user` no user database knows, or `~+`, `~-` and `~N` (the shell's folder stack), is kept as written, as bash
 * keeps it.
 */
export function shellTildeWord(word: string, env: NodeJS.ProcessEnv): string {
  const tilde = /^~([^/]*)/.exec(word);
  if (!tilde) return word;
  const user = tilde[1]!;
  if (user !== '' && !/^[\w.][\w.-]*\$?$/.test(user)) return word;
  const home = user === '' ? (env.HOME ?? homedir()) : userHomeFolder(user);
  if (home === undefined) return word;
  return `${home.replace(/\/+$/, '')}${word.slice(tilde[0].length)}` || '/';
}

/**
 * The folder or file the environment variable `name` gives (environmentValue: undefined where unset or blank), a `~`,
 * `~user` or `$NAME` a shell did not expand expanded as huggingface_hub expands its own (expandedPath): bert-compress's
 * own folder variables (BERT_COMPRESS_CACHE, XDG_CACHE_HOME, GLUE_DIR, BERT_COMPRESS_TIMING_LOCK) are read so.
 */
export function environmentPath(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = environmentValue(env, name);
  return value === undefined ? undefined : expandedPath(value, env, name);
}

/**
 * The home folder of `user`, as Python's expanduser reads `~user` (pwd.getpwnam): userHomeFolder's (/etc/passwd, else
 * the system's user database: a directory service's users). A user none of them knows (where huggingface_hub keeps
 * `~user` as a folder in the working folder) is a one-line UsageError naming `variable` and its `path`, where that
 * folder was read unsaid.
 */
function userHome(user: string, path: string, variable: string): string {
  const home = userHomeFolder(user);
  if (home !== undefined) return home;
  throw new UsageError(
    `${quotedText(path)} (${variable}): no user ${quotedText(user)} is known here (${PASSWD_FILE}, getent passwd), so the home folder ~${user} names is unknown; write the folder's path`,
  );
}

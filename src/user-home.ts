/**
 * The home folder of the user a path's leading `~user` names, as Python's os.path.expanduser reads it (pwd.getpwnam:
 * the system's user database, /etc/passwd and whatever directory service the name service switch adds, LDAP or SSSD,
 * where a cluster's users are listed), for the folder variables a path is read from (expandedPath, src/environment.ts: the
 * hub's and bert-compress's own cache). Node has no getpwnam.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';

/** The system's list of users, whose entries name each user's home folder (passwd(5)). */
export const PASSWD_FILE = '/etc/passwd';

/** How long the user database's answer (getent) is waited for: a directory service out of reach answers nothing. */
const GETENT_TIMEOUT_MS = 5000;

/** The home folder of the first passwd(5) entry of `text` (its lines) that names `user`, or undefined. */
function passwdEntryHome(text: string, user: string): string | undefined {
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === user && fields.length >= 7) return fields[5];
  }
  return undefined;
}

/**
 * The home folder of `user`, as getpwnam gives it: its `passwdFile` entry's, the first that names it (read first: no
 * process started); else, for a user that file does not list (one a directory service alone knows), this process's
 * user's (os.userInfo: getpwuid) where it is that user, else the system's user database's (`getent passwd`, the name
 * service switch getpwnam reads); undefined for a user none of them knows, where `/etc/passwd lists no user` refused
 * every user a directory service lists.
 */
export function userHomeFolder(user: string, passwdFile = PASSWD_FILE): string | undefined {
  let listed: string;
  try {
    listed = readFileSync(passwdFile, 'utf8');
  } catch {
    listed = '';
  }
  return passwdEntryHome(listed, user) ?? ownHome(user) ?? userDatabaseHome(user);
}

/** This process's user's home folder (getpwuid) where that user is `user`, else undefined. */
function ownHome(user: string): string | undefined {
  try {
    const own = userInfo();
    return own.username === user ? own.homedir : undefined;
  } catch {
    return undefined; // (a user id no entry names)
  }
}

/**
 * `user`'s home folder in the system's user database (`getent passwd -- USER`: by name, as getpwnam; a name of digits
 * is no user id here, its entry's name must be `user`), undefined where it lists none, getent is missing or no answer
 * came in GETENT_TIMEOUT_MS.
 */
function userDatabaseHome(user: string): string | undefined {
  const found = spawnSync('getent', ['passwd', '--', user], { encoding: 'utf8', timeout: GETENT_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'ignore'] });
  return found.status === 0 && typeof found.stdout === 'string' ? passwdEntryHome(found.stdout, user) : undefined;
}

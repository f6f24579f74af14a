/**
 * The home folder of the user a path's leading `~user` names, as Python's os.path.expanduser reads it (pwd.getpwnam),
 * for the hub's folder variables (settings.ts). Node has no getpwnam.
 */
import { readFileSync } from 'node:fs';

/** The system's list of users, whose entries name each user's home folder (passwd(5)). */
export const PASSWD_FILE = '/etc/passwd';

/** The home folder of the first passwd(5) entry of `text` (its lines) that names `user`, or undefined. */
function passwdEntryHome(text: string, user: string): string | undefined {
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === user && fields.length >= 7) return fields[5];
  }
  return undefined;
}

/** The home folder of `user`: its `passwdFile` entry's, the first that names it; undefined for a user it does not list. */
export function userHomeFolder(user: string, passwdFile = PASSWD_FILE): string | undefined {
  let listed: string;
  try {
    listed = readFileSync(passwdFile, 'utf8');
  } catch {
    listed = '';
  }
  return passwdEntryHome(listed, user);
}

/**
 * A leading `~user` in the hub's folder variables is that user's home folder as Python's expanduser reads it
 * (pwd.getpwnam: the system's user database, which the name service switch makes /etc/passwd and any directory
 * service, LDAP or SSSD, where a cluster's users are listed). A user /etc/passwd does not list was refused ('/etc/passwd
 * lists no user …'), though huggingface_hub reads that user's home: this process's user is read as getpwuid gives it,
 * and any other as `getent passwd` does. A passwd file that lists no one stands for a directory service's users here.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { userHomeFolder } from '../src/user-home.ts';

const root = mkdtempSync(join(tmpdir(), 'bc-user-home-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A passwd(5) file of `lines`. */
function passwdFile(name: string, lines: readonly string[]): string {
  const file = join(root, name);
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
  return file;
}

/** The users of the system's user database (getent passwd) other than this process's, with their home folders. */
function otherUsers(): Array<{ name: string; home: string }> {
  const listed = spawnSync('getent', ['passwd'], { encoding: 'utf8' }).stdout ?? '';
  return listed
    .split('\n')
    .map((line) => line.split(':'))
    .filter((f) => f.length >= 7 && f[0] !== userInfo().username)
    .map((f) => ({ name: f[0]!, home: f[5]! }));
}

describe("~user's home folder", () => {
  it('reads the passwd file first, the first entry naming the user', () => {
    const file = passwdFile('first', ['alice:x:1000:1000::/home/one:/bin/sh', 'alice:x:1001:1001::/home/two:/bin/sh', 'bob:x:7']);
    expect(userHomeFolder('alice', file)).toBe('/home/one');
  });

  it("reads this process's user where the passwd file does not list it, as getpwuid gives its home", () => {
    const empty = passwdFile('empty', []);
    const own = userInfo();
    expect(userHomeFolder(own.username, empty)).toBe(own.homedir);
  });

  it('reads a user the passwd file does not list from the user database (getent passwd), by name only', () => {
    const empty = passwdFile('no-one', ['# no users']);
    const others = otherUsers();
    expect(others.length).toBeGreaterThan(0);
    for (const { name, home } of others.slice(0, 3)) expect([name, userHomeFolder(name, empty)]).toEqual([name, home]);
    // (a user id is no user name, as getpwnam takes none: getent passwd 0 lists root by its id)
    expect(userHomeFolder('0', empty)).toBeUndefined();
    // (a name that reads as an option is a name)
    expect(userHomeFolder('--help', empty)).toBeUndefined();
    expect(userHomeFolder('nobody-here-at-all', empty)).toBeUndefined();
  });
});

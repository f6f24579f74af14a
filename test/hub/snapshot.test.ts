/** The hub layer against a local hub-like server: refs, settings, the cache layout, offline use, resume, checksums, tokens. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { NotUtf8Error, UsageError } from '../../src/errors.ts';
import { HubError, downloadSnapshot, hubSettings, parseHubRef, type SnapshotOptions } from '../../src/hub/index.ts';
import { lockPath } from '../../src/hub/download.ts';
import { serveHub, type HubServer } from '../helpers/hub-server.ts';

/** Whether this process's user has an entry in the user database (os.userInfo throws for a user id none names). */
function listedUser(): boolean {
  try {
    userInfo();
    return true;
  } catch {
    return false;
  }
}
import { sharded, tinyCheckpoint } from './repo-files.ts';
import { formatMB } from '../../src/units.ts';
import { retryAfterMs } from '../../src/ranged-download.ts';

let hub: HubServer;
const root = mkdtempSync(join(tmpdir(), 'bc-hub-'));
let n = 0;
/** A fresh HF_HOME and the environment pointing at the server. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { HF_HOME: join(root, `home-${n++}`), HF_ENDPOINT: hub.baseUrl, ...extra };
}
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const errorOf = async (p: Promise<unknown>): Promise<Error> => {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
};

const ckpt = tinyCheckpoint(3);
let main: string;
let v1: string;
beforeAll(async () => {
  hub = await serveHub();
  v1 = hub.addCommit('org/tiny', { ...tinyCheckpoint(1).files, 'pytorch_model.bin': Buffer.from('pickle') }, { revisions: ['v1'] });
  main = hub.addCommit('org/tiny', ckpt.files);
  hub.addCommit('org/sharded', sharded(ckpt));
  hub.addCommit('org/private', ckpt.files, { token: 'hf_secret' });
  hub.addCommit('org/pickled', { 'config.json': ckpt.files['config.json']!, 'pytorch_model.bin': Buffer.from('pickle') });
  hub.addCommit('org/pickled-shards', {
    'config.json': ckpt.files['config.json']!,
    'pytorch_model-00001-of-00002.bin': Buffer.from('pickle'),
    'pytorch_model-00002-of-00002.bin': Buffer.from('pickle'),
  });
  hub.addCommit('bare', ckpt.files);
  hub.addCommit('org/gated', ckpt.files, { gated: true });
  hub.addCommit('org/mirror', ckpt.files, { namesOnly: true });
  hub.addCommit('org/mirror-gzip', ckpt.files, { namesOnly: true, gzip: true });
});
afterAll(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

describe('parseHubRef', () => {
  it('reads org/name, a bare name and a revision', () => {
    expect(parseHubRef('hf:org/name')).toMatchObject({ repo: 'org/name', revision: 'main' });
    expect(parseHubRef('hf:bert-base-uncased@v1.0')).toMatchObject({ repo: 'bert-base-uncased', revision: 'v1.0' });
    expect(parseHubRef(`hf:org/x@${'a'.repeat(40)}`).revision).toBe('a'.repeat(40));
  });
  it.each([
    'hf:',
    'hf:a/b/c',
    'hf:org/na me',
    'hf:org/name@',
    'hf:org--x/y',
    'hf:org/name@../x',
    'hf:-org/x',
    'hf:org/name@a b',
    'hf:org/name@x~1',
    'hf:org/name@x@{1}',
    'hf:org/name@a//b',
    'hf:org/name@.hidden',
    'hf:org/name@a.lock',
  ])('refuses %s in one line', (ref) => {
    const e = (() => {
      try {
        parseHubRef(ref);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(e).toBeInstanceOf(HubError);
    expect(e!.message).toContain(ref);
    expect(e!.message).not.toContain('\n');
  });
  it("quotes a repo name or revision holding a quote as a shell takes it (quotedText: 'it'\\''s'), where plain quotes showed 'it's'", () => {
    const expected = '(expected hf:org/name[@revision], e.g. hf:google-bert/bert-base-uncased@main)';
    expect(() => parseHubRef("hf:org/it's")).toThrow(
      `hf:org/it's: 'it'\\''s' is not a valid repo or organization name (letters, digits, '-', '_', '.'; at most 96) ${expected}`,
    );
    expect(() => parseHubRef("hf:org/name@it's:x")).toThrow(
      `hf:org/name@it's:x: 'it'\\''s:x' is not a valid revision: a git branch or tag name cannot hold ':' ${expected}`,
    );
  });
});

describe('hubSettings', () => {
  it('reads the environment as huggingface_hub does', () => {
    const home = join(root, 'settings-home');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'token'), 'hf_from_file\n');
    expect(hubSettings({ HF_HOME: home, HF_ENDPOINT: 'http://h/', HF_HUB_OFFLINE: 'yes' })).toMatchObject({
      endpoint: 'http://h',
      cacheDir: join(home, 'hub'),
      offline: true,
      token: 'hf_from_file',
    });
    const s = hubSettings({ HF_HOME: home, HF_HUB_CACHE: '/c', HF_TOKEN: 'hf_env', HF_HUB_OFFLINE: '0' });
    expect(s).toMatchObject({ endpoint: 'https://huggingface.co', cacheDir: '/c', offline: false, token: 'hf_env' });
    // the older names huggingface_hub still reads, below the new ones
    expect(hubSettings({ HF_HOME: home, HUGGINGFACE_HUB_CACHE: '/old', TRANSFORMERS_OFFLINE: '1' })).toMatchObject({ cacheDir: '/old', offline: true });
    expect(hubSettings({ HF_HUB_CACHE: '/new', HUGGINGFACE_HUB_CACHE: '/old', HF_HUB_OFFLINE: '0', TRANSFORMERS_OFFLINE: '1' })).toMatchObject({
      cacheDir: '/new',
      offline: false,
    });
  });

  it('a token file that cannot be read (a folder) is refused in one line naming it, where the line named no file', () => {
    const folder = join(root, 'token-folder');
    mkdirSync(folder, { recursive: true });
    expect(() => hubSettings({ HF_TOKEN_PATH: folder })).toThrow(
      `${folder}: cannot read the hub token file (HF_TOKEN_PATH): is a folder; set HF_TOKEN to the token instead`,
    );
    const home = join(root, 'home-with-token-folder');
    mkdirSync(join(home, 'token'), { recursive: true });
    expect(() => hubSettings({ HF_HOME: home })).toThrow(`${join(home, 'token')}: cannot read the hub token file ($HF_HOME/token): is a folder;`);
    expect(hubSettings({ HF_HOME: home, HF_TOKEN: 'hf_env' }).token).toBe('hf_env');
    expect(hubSettings({ HF_TOKEN_PATH: join(root, 'no-such-token') }).token).toBeUndefined();
  });

  it('expands ~ and $NAME in HF_HOME, HF_HUB_CACHE and HF_TOKEN_PATH as huggingface_hub does (expanduser, then expandvars), where a folder ~ in the working folder was read', () => {
    const user = mkdtempSync(join(root, 'user-'));
    mkdirSync(join(user, 'hf'));
    writeFileSync(join(user, 'hf', 'token'), 'hf_from_home\n');
    expect(hubSettings({ HOME: user, HF_HOME: '~/hf' })).toMatchObject({ cacheDir: join(user, 'hf', 'hub'), token: 'hf_from_home' });
    expect(hubSettings({ HOME: user, XDG_CACHE_HOME: '~/xdg' }).cacheDir).toBe(join(user, 'xdg', 'huggingface', 'hub'));
    // (the default cache in ~ as expanduser reads it, the environment's HOME: an empty one is the root folder, as
    // python3 reads it (HOME= python3: os.path.join(os.path.expanduser('~'), '.cache') is '/.cache'), where the home
    // folder Node gives for it, '', named '.cache/huggingface/hub' in the working folder)
    expect(hubSettings({ HOME: user }).cacheDir).toBe(join(user, '.cache', 'huggingface', 'hub'));
    expect(hubSettings({ HOME: '' }).cacheDir).toBe('/.cache/huggingface/hub');
    // (joined as Python joins them, before the expansion: path.join took '~/..' and '$DISK/..' for nothing, and named
    // 'cache/huggingface/hub' in the working folder)
    expect(hubSettings({ HOME: user, XDG_CACHE_HOME: '~/../cache' }).cacheDir).toBe(`${user}/../cache/huggingface/hub`);
    expect(hubSettings({ HOME: user, XDG_CACHE_HOME: '$DISK/../cache', DISK: '/d/e' }).cacheDir).toBe('/d/e/../cache/huggingface/hub');
    expect(hubSettings({ HOME: user, HF_HOME: '$DISK/..', DISK: '/d/e', HF_TOKEN: 'x' }).cacheDir).toBe('/d/e/../hub');
    const braced = ['$', '{MODELS}'].join(''); // (Python's ${NAME}, written apart from a template's placeholder)
    expect(hubSettings({ HOME: user, HF_HOME: '/h', HF_HUB_CACHE: `$DISK/${braced}/c`, DISK: '/d', MODELS: 'm' }).cacheDir).toBe('/d/m/c');
    expect(hubSettings({ HOME: user, HF_HOME: '/h', HUGGINGFACE_HUB_CACHE: '~' }).cacheDir).toBe(user);
    // (a variable not set, and ~ not at the start, kept as written, as Python keeps them)
    expect(hubSettings({ HOME: user, HF_HOME: '/h', HF_HUB_CACHE: '/c/$UNSET/~/x' }).cacheDir).toBe('/c/$UNSET/~/x');
    writeFileSync(join(user, 'token-file'), 'hf_from_path\n');
    expect(hubSettings({ HOME: user, HF_HOME: '/h', HF_TOKEN_PATH: '~/token-file' })).toMatchObject({
      token: 'hf_from_path',
      tokenSource: join(user, 'token-file'),
    });
  });

  it.skipIf(!listedUser())(
    "reads a leading ~user as that user's home folder, as Python's expanduser (getpwnam) does, from /etc/passwd, where a folder '~user' in the working folder was read; a user it does not list is refused in one line naming the variable",
    () => {
      // (this process's user and home as getpwuid gives them, os.userInfo: another reading than the file's)
      const { username, homedir } = userInfo();
      const home = homedir.replace(/\/+$/, '');
      const other = mkdtempSync(join(root, 'other-home-'));
      expect(hubSettings({ HOME: other, HF_HOME: '/h', HF_HUB_CACHE: `~${username}/x` }).cacheDir).toBe(`${home}/x`);
      expect(hubSettings({ HOME: other, HF_HOME: `~${username}`, HF_TOKEN: 't' }).cacheDir).toBe(`${home}/hub`);
      expect(hubSettings({ HOME: other, XDG_CACHE_HOME: `~${username}/c`, HF_TOKEN: 't' }).cacheDir).toBe(`${home}/c/huggingface/hub`);
      // (a $NAME after the ~ is no user name: expanduser runs first, as in Python)
      expect(() => hubSettings({ HOME: other, HF_HOME: '/h', HF_HUB_CACHE: '~$ME/x', ME: username })).toThrow(
        new UsageError(
          "'~$ME/x' (HF_HUB_CACHE): no user '$ME' is known here (/etc/passwd, getent passwd), so the home folder ~$ME names is unknown; write the folder's path",
        ),
      );
      for (const [env, variable, value] of [
        [{ HF_HOME: '/h', HF_HUB_CACHE: '~nobody-here/x' }, 'HF_HUB_CACHE', '~nobody-here/x'],
        [{ HF_HOME: '~nobody-here' }, 'HF_HOME', '~nobody-here'],
        [{ XDG_CACHE_HOME: '~nobody-here/c' }, 'XDG_CACHE_HOME', '~nobody-here/c/huggingface'],
        [{ HF_HOME: '/h', HF_TOKEN_PATH: '~nobody-here/token' }, 'HF_TOKEN_PATH', '~nobody-here/token'],
      ] as const)
        expect(() => hubSettings({ HOME: other, ...env })).toThrow(
          new UsageError(
            `'${value}' (${variable}): no user 'nobody-here' is known here (/etc/passwd, getent passwd), so the home folder ~nobody-here names is unknown; write the folder's path`,
          ),
        );
    },
  );

  it("reads a $NAME in HF_HOME and HF_HUB_CACHE as ASCII letters, digits and _ as Python's expandvars does (re.ASCII), where a letter such as é after it was read as part of the name", () => {
    // (python3: os.environ DISK=/d, DISKé=/x: expandvars('$DISKé/hf') is '/dé/hf', expandvars('${DISKé}/hf') '/x/hf')
    const env = { HOME: root, DISK: '/d', DISKé: '/x' };
    expect(hubSettings({ ...env, HF_HOME: '$DISKé/hf' }).cacheDir).toBe('/dé/hf/hub');
    expect(hubSettings({ ...env, HF_HUB_CACHE: ['$', '{DISKé}/c'].join('') }).cacheDir).toBe('/x/c');
    expect(hubSettings({ ...env, é: '/e', HF_HUB_CACHE: '/c/$é/z' }).cacheDir).toBe('/c/$é/z');
  });

  it("refuses an HF_ENDPOINT that is no http(s) URL as --base-url is refused, where each request said 'cannot reach notaurl (ERR_INVALID_URL); check HF_ENDPOINT and the network'; offline, none is sent", () => {
    expect(() => hubSettings({ HF_ENDPOINT: 'notaurl' })).toThrow(new UsageError("HF_ENDPOINT 'notaurl': not a URL; give an http:// or https:// URL"));
    expect(() => hubSettings({ HF_ENDPOINT: 'ftp://h/' })).toThrow(new UsageError("HF_ENDPOINT 'ftp://h/': only http:// and https:// URLs can be fetched"));
    // (the value as typed, blanks trimmed, where the endpoint without its trailing slashes was shown: 'https:', 'ftp://h')
    expect(() => hubSettings({ HF_ENDPOINT: ' https:// ' })).toThrow(new UsageError("HF_ENDPOINT 'https://': not a URL; give an http:// or https:// URL"));
    expect(hubSettings({ HF_ENDPOINT: 'notaurl', HF_HUB_OFFLINE: '1' })).toMatchObject({ endpoint: 'notaurl', offline: true });
    expect(hubSettings({ HF_ENDPOINT: 'https://mirror.example/hf/' }).endpoint).toBe('https://mirror.example/hf');
  });

  it('reads the waits HF_HUB_DOWNLOAD_TIMEOUT and HF_HUB_ETAG_TIMEOUT in seconds (10 by default) and refuses one that is no positive number', () => {
    expect(hubSettings({})).toMatchObject({ downloadTimeoutMs: 10_000, etagTimeoutMs: 10_000 });
    expect(hubSettings({ HF_HUB_DOWNLOAD_TIMEOUT: '60', HF_HUB_ETAG_TIMEOUT: '0.5' })).toMatchObject({ downloadTimeoutMs: 60_000, etagTimeoutMs: 500 });
    // 0 is the default, as huggingface_hub reads it (`_as_int(value) or DEFAULT_DOWNLOAD_TIMEOUT`): a shell set up for it works here
    expect(hubSettings({ HF_HUB_DOWNLOAD_TIMEOUT: '0', HF_HUB_ETAG_TIMEOUT: ' 0 ' })).toMatchObject({ downloadTimeoutMs: 10_000, etagTimeoutMs: 10_000 });
    expect(hubSettings({ HF_HUB_DOWNLOAD_TIMEOUT: '1e2', HF_HUB_ETAG_TIMEOUT: '.5' })).toMatchObject({ downloadTimeoutMs: 100_000, etagTimeoutMs: 500 });
    // decimal only, as every flag reads numbers (and Python's int() refuses them too): Number() took 0x10 as 16 s
    // (a number shown bare as typed, other text quoted, as every refused number is: where it quoted '-3' too)
    for (const [bad, shown] of [
      ['x', "'x'"],
      ['-3', '-3'],
      [' -2.5 ', '-2.5'],
      ['Infinity', "'Infinity'"],
      ['0x10', "'0x10'"],
      ['0b11', "'0b11'"],
      ['0o7', "'0o7'"],
      ['1_000', "'1_000'"],
    ]) {
      // (the one number wording, where it said 'expected a number of seconds above 0', which 0 is not, though it reads)
      expect(() => hubSettings({ HF_HUB_DOWNLOAD_TIMEOUT: bad })).toThrow(
        new UsageError(`HF_HUB_DOWNLOAD_TIMEOUT ${shown}: expected a number of seconds 0 or greater (0: the default)`),
      );
    }
    // a wait too small for a number to hold reads as 0: refused, where it took the default 10 s unsaid (0 written as
    // 0, -0 or 0.00e-400 is the default)
    for (const tiny of ['1e-400', '2e-325', '0.0001e-330']) {
      expect(() => hubSettings({ HF_HUB_ETAG_TIMEOUT: tiny })).toThrow(
        new UsageError(`HF_HUB_ETAG_TIMEOUT ${tiny}: too small for a number to hold (it reads as 0); write 0 for the default`),
      );
    }
    expect(hubSettings({ HF_HUB_DOWNLOAD_TIMEOUT: '-0', HF_HUB_ETAG_TIMEOUT: '0.00e-400' })).toMatchObject({
      downloadTimeoutMs: 10_000,
      etagTimeoutMs: 10_000,
    });
  });
});

describe('downloadSnapshot', () => {
  it('downloads config, tokenizer and weights into the huggingface_hub cache layout', async () => {
    const e = env();
    const lines: string[] = [];
    const s = await downloadSnapshot('hf:org/tiny', { env: e, log: (l) => lines.push(l) });
    const repoDir = join(e.HF_HOME!, 'hub', 'models--org--tiny');
    expect(s.commit).toBe(main);
    expect(s.dir).toBe(join(repoDir, 'snapshots', main));
    expect(s.files).toEqual(['config.json', 'vocab.txt', 'model.safetensors']);
    expect(readFileSync(join(repoDir, 'refs', 'main'), 'utf8')).toBe(main);
    // Snapshot entries are relative symlinks to blobs named by sha256 (LFS) or git blob id.
    const link = join(s.dir, 'model.safetensors');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(join('..', '..', 'blobs', sha256(ckpt.files['model.safetensors']!)));
    expect(readFileSync(link).equals(ckpt.files['model.safetensors']!)).toBe(true);
    expect(readFileSync(join(s.dir, 'config.json')).equals(ckpt.files['config.json']!)).toBe(true);
    expect(readdirSync(join(repoDir, 'blobs'))).toHaveLength(3);
    expect(existsSync(join(s.dir, 'README.md'))).toBe(false);
    expect(s.downloaded).toHaveLength(3);
    expect(lines.some((l) => l.includes('downloading model.safetensors'))).toBe(true);

    // A second run resolves the revision and downloads nothing.
    const before = hub.requests.length;
    const again = await downloadSnapshot('hf:org/tiny', { env: e });
    expect(again.dir).toBe(s.dir);
    expect(again.downloaded).toEqual([]);
    expect(hub.requests.slice(before).map((r) => r.kind)).toEqual(['api']);

    // Offline: no request at all, from refs/main.
    const offline = hub.requests.length;
    const o = await downloadSnapshot('hf:org/tiny', { env: { ...e, HF_HUB_OFFLINE: '1' } });
    expect(o).toMatchObject({ dir: s.dir, commit: main, fromCache: true });
    expect(o.files).toEqual(s.files);
    expect(hub.requests.length).toBe(offline);
    // An unreachable hub falls back to the cache too, and says so.
    const notes: string[] = [];
    const down = await downloadSnapshot('hf:org/tiny', { env: { ...e, HF_ENDPOINT: 'http://127.0.0.1:9' }, log: (l) => notes.push(l) });
    expect(down.dir).toBe(s.dir);
    expect(notes.join('\n')).toMatch(/cannot reach .*using the cached snapshot/);
  });

  it('offline without a cached copy fails in one line', async () => {
    const e = await errorOf(downloadSnapshot('hf:org/tiny@v1', { env: env({ HF_HUB_OFFLINE: 'true' }) }));
    expect(e).toBeInstanceOf(HubError);
    expect(e.message).toMatch(/^hf:org\/tiny@v1: not in the cache \(HF_HUB_OFFLINE is set\)/);
    expect(e.message).not.toContain('\n');
  });

  it("a folder where the cache's refs/<revision> file belongs is refused in one line naming it, online and offline, where the line named no file ('cannot read: is a folder')", async () => {
    const e = env();
    const ref = join(e.HF_HOME!, 'hub', 'models--org--tiny', 'refs', 'main');
    mkdirSync(ref, { recursive: true });
    for (const offline of [{}, { HF_HUB_OFFLINE: '1' }]) {
      const error = await errorOf(downloadSnapshot('hf:org/tiny', { env: { ...e, ...offline } }));
      expect(error.message).toBe(`cannot read ${ref}: is a folder`);
    }
    expect(readdirSync(ref)).toEqual([]);
  });

  it("offline, a cached snapshot lacking config.json or the weights (one file downloaded by Python's hf_hub_download, a removed blob) says the cache lacks it, where it said the repo has none", async () => {
    const e = env();
    const s = await downloadSnapshot('hf:org/tiny', { env: e });
    const offline = { ...e, HF_HUB_OFFLINE: '1' };
    const lacks = (what: string) =>
      `hf:org/tiny: cached snapshot ${s.dir} lacks ${what} (HF_HUB_OFFLINE is set); run once without HF_HUB_OFFLINE to download it`;
    rmSync(join(s.dir, 'model.safetensors'));
    expect((await errorOf(downloadSnapshot('hf:org/tiny', { env: offline }))).message).toBe(
      lacks('its weights (onnx/model.onnx, model.safetensors, model.safetensors.index.json)'),
    );
    // (weights it cannot read, a pickle fetched by Python, are no sign of what the repo has)
    writeFileSync(join(s.dir, 'pytorch_model.bin'), 'pickle');
    expect((await errorOf(downloadSnapshot('hf:org/tiny', { env: offline }))).message).toBe(
      lacks('its weights (onnx/model.onnx, model.safetensors, model.safetensors.index.json; it holds pytorch_model.bin, which bert-compress cannot read)'),
    );
    rmSync(join(s.dir, 'pytorch_model.bin'));
    // (a pickled checkpoint's shards, saved without their index: named too, as the repo's refusal names them)
    for (const i of [1, 2]) writeFileSync(join(s.dir, `pytorch_model-0000${i}-of-00002.bin`), 'pickle');
    expect((await errorOf(downloadSnapshot('hf:org/tiny', { env: offline }))).message).toBe(
      lacks(
        'its weights (onnx/model.onnx, model.safetensors, model.safetensors.index.json; it holds pytorch_model-00001-of-00002.bin, pytorch_model-00002-of-00002.bin, which bert-compress cannot read)',
      ),
    );
    for (const i of [1, 2]) rmSync(join(s.dir, `pytorch_model-0000${i}-of-00002.bin`));
    rmSync(join(s.dir, 'config.json'));
    expect((await errorOf(downloadSnapshot('hf:org/tiny', { env: offline }))).message).toBe(lacks('config.json'));
    // (online, the files it lacks are downloaded again)
    expect((await downloadSnapshot('hf:org/tiny', { env: e })).files).toEqual(s.files);
    expect(existsSync(join(s.dir, 'config.json')) && existsSync(join(s.dir, 'model.safetensors'))).toBe(true);
  });

  it('offline through the older TRANSFORMERS_OFFLINE names that variable, not HF_HUB_OFFLINE', async () => {
    const e = await errorOf(downloadSnapshot('hf:org/tiny@v1', { env: env({ TRANSFORMERS_OFFLINE: '1' }) }));
    expect(e).toBeInstanceOf(HubError);
    expect(e.message).toMatch(/^hf:org\/tiny@v1: not in the cache \(TRANSFORMERS_OFFLINE is set\): .*; run once without TRANSFORMERS_OFFLINE to download it$/);
    expect(e.message).not.toContain('HF_HUB_OFFLINE');
  });

  it("takes the revisions git's ref names allow ('+', '@', a pull request's refs/pr/N), resolving them online and from the cache's refs", async () => {
    const e = env();
    const names = ['v1.0+cu118', 'user@fix', 'refs/pr/1'];
    const sha = hub.addCommit('org/refs', ckpt.files, { revisions: names });
    for (const name of names) {
      expect(parseHubRef(`hf:org/refs@${name}`).revision).toBe(name);
      const online = await downloadSnapshot(`hf:org/refs@${name}`, { env: e });
      expect(online.commit).toBe(sha);
      expect(readFileSync(join(online.repoDir, 'refs', ...name.split('/')), 'utf8')).toBe(sha);
      expect((await downloadSnapshot(`hf:org/refs@${name}`, { env: { ...e, HF_HUB_OFFLINE: '1' } })).dir).toBe(online.dir);
    }
    expect(() => parseHubRef('hf:org/refs@x@{1}')).toThrow(
      "hf:org/refs@x@{1}: 'x@{1}' is not a valid revision: a git branch or tag name cannot hold '@{' (expected hf:org/name[@revision], e.g. hf:google-bert/bert-base-uncased@main)",
    );
  });

  it('resolves tags and commits', async () => {
    const e = env();
    const tag = await downloadSnapshot('hf:org/tiny@v1', { env: e });
    expect(tag.commit).toBe(v1);
    expect(readFileSync(join(tag.repoDir, 'refs', 'v1'), 'utf8')).toBe(v1);
    expect(readFileSync(join(tag.dir, 'model.safetensors')).equals(tinyCheckpoint(1).files['model.safetensors']!)).toBe(true);
    const byCommit = await downloadSnapshot(`hf:org/tiny@${main}`, { env: e });
    expect(byCommit.dir).toBe(join(tag.repoDir, 'snapshots', main));
    expect(existsSync(join(tag.repoDir, 'refs', main))).toBe(false);
    const offline = await downloadSnapshot(`hf:org/tiny@${v1}`, { env: { ...e, HF_HUB_OFFLINE: '1' } });
    expect(offline.dir).toBe(tag.dir);
    const missing = await errorOf(downloadSnapshot('hf:org/tiny@v9', { env: e }));
    expect(missing.message).toBe("hf:org/tiny@v9: no revision 'v9' (branch, tag or commit) in org/tiny");
    // a short commit hash (the hub's file URLs take a full one): said, with what to give instead
    const short = main.slice(0, 7);
    const abbreviated = await errorOf(downloadSnapshot(`hf:org/tiny@${short}`, { env: e }));
    expect(abbreviated.message).toBe(
      `hf:org/tiny@${short}: no revision '${short}' (branch, tag or commit) in org/tiny; if '${short}' is a short commit hash, use the full 40-character commit hash`,
    );
    // offline, a short commit hash names the one cached snapshot whose commit starts with it
    const offlineShort = await downloadSnapshot(`hf:org/tiny@${short}`, { env: { ...e, HF_HUB_OFFLINE: '1' } });
    expect(offlineShort).toMatchObject({ commit: main, dir: byCommit.dir, fromCache: true });
    expect(offlineShort.files).toEqual(byCommit.files);
    // …and one no cached snapshot starts with is still refused, with the same hint
    const other = [...'0123456789abcdef'].map((c) => c.repeat(7)).find((x) => !main.startsWith(x) && !v1.startsWith(x))!;
    const offlineUnknown = await errorOf(downloadSnapshot(`hf:org/tiny@${other}`, { env: { ...e, HF_HUB_OFFLINE: '1' } }));
    expect(offlineUnknown.message).toMatch(
      new RegExp(
        `^hf:org/tiny@${other}: not in the cache \\(HF_HUB_OFFLINE is set\\): no \\S+; if '${other}' is a short commit hash, use the full 40-character commit hash; run once without HF_HUB_OFFLINE`,
      ),
    );
    const noRepo = await errorOf(downloadSnapshot('hf:org/nothing', { env: e }));
    expect(noRepo.message).toMatch(/^hf:org\/nothing: no such repo 'org\/nothing'/);
  });

  it('offline, refuses a short commit hash that several cached snapshots start with, in one line naming them', async () => {
    // a cache folder made by hand, as huggingface_hub lays it out (no request is made offline)
    const home = join(root, `home-${n++}`);
    const repo = join(home, 'hub', 'models--org--fake');
    const a = `abc1234${'0'.repeat(33)}`;
    const b = `abc1234${'f'.repeat(33)}`;
    for (const c of [a, b]) {
      mkdirSync(join(repo, 'snapshots', c), { recursive: true });
      for (const [name, bytes] of Object.entries(ckpt.files)) writeFileSync(join(repo, 'snapshots', c, name), bytes!);
    }
    const offline = { HF_HOME: home, HF_ENDPOINT: 'http://127.0.0.1:9', HF_HUB_OFFLINE: '1' };
    const ambiguous = await errorOf(downloadSnapshot('hf:org/fake@abc1234', { env: offline }));
    expect(ambiguous).toBeInstanceOf(HubError);
    expect(ambiguous.message).toBe(
      `hf:org/fake@abc1234: the short commit hash 'abc1234' is ambiguous in the cache (HF_HUB_OFFLINE is set): snapshots ${a}, ${b}; give more of it, or the full 40-character commit hash`,
    );
    // more of the hash picks one; a branch of that name in refs/ wins over the prefix, as it does online
    expect((await downloadSnapshot('hf:org/fake@abc12340', { env: offline })).commit).toBe(a);
    expect((await downloadSnapshot('hf:org/fake@abc1234f', { env: offline })).commit).toBe(b);
    mkdirSync(join(repo, 'refs'), { recursive: true });
    writeFileSync(join(repo, 'refs', 'abc1234'), b);
    expect((await downloadSnapshot('hf:org/fake@abc1234', { env: offline })).commit).toBe(b);
  });

  it('resumes a download cut off halfway with a Range request', async () => {
    const e = env();
    const file = 'model.safetensors';
    const size = ckpt.files[file]!.length;
    hub.cutNext(file, Math.floor(size / 2));
    const before = hub.requests.length;
    const lines: string[] = [];
    const s = await downloadSnapshot('hf:org/tiny', { env: e, log: (l) => lines.push(l) });
    const gets = hub.requests.slice(before).filter((r) => r.kind === 'cdn' && r.file === file);
    expect(gets).toHaveLength(2);
    expect(gets[0]!.range).toBeUndefined();
    expect(gets[1]!.range).toBe(`bytes=${Math.floor(size / 2)}-`);
    expect(readFileSync(join(s.dir, file)).equals(ckpt.files[file]!)).toBe(true);
    expect(lines.some((l) => l.includes(`resuming ${file}`))).toBe(true);
    expect(readdirSync(join(s.repoDir, 'blobs')).some((f) => f.endsWith('.incomplete'))).toBe(false);
  });

  it('a download that stalls is broken off after HF_HUB_DOWNLOAD_TIMEOUT without bytes and resumed in the same call, where it waited minutes', async () => {
    const e = env({ HF_HUB_DOWNLOAD_TIMEOUT: '0.4' });
    const file = 'model.safetensors';
    const size = ckpt.files[file]!.length;
    const half = Math.floor(size / 2);
    hub.stallNext(file, half);
    const before = hub.requests.length;
    const lines: string[] = [];
    const s = await downloadSnapshot('hf:org/tiny', { env: e, log: (l) => lines.push(l) });
    expect(readFileSync(join(s.dir, file)).equals(ckpt.files[file]!)).toBe(true);
    const gets = hub.requests.slice(before).filter((r) => r.kind === 'cdn' && r.file === file);
    expect(gets.map((r) => r.range)).toEqual([undefined, `bytes=${half}-`]);
    expect(lines).toContain(`hf:org/tiny: resuming ${file} at ${formatMB(half)} of ${formatMB(size)}`);
  });

  it('a hub that never answers is given up after HF_HUB_DOWNLOAD_TIMEOUT (a HEAD: HF_HUB_ETAG_TIMEOUT) as one that cannot be reached: one line, or the cached snapshot', async () => {
    const e = env({ HF_HUB_DOWNLOAD_TIMEOUT: '0.4' });
    hub.hangNext('api', 1);
    const fix = 'check HF_ENDPOINT and the network, or set HF_HUB_OFFLINE=1 to use cached models';
    expect((await errorOf(downloadSnapshot('hf:org/tiny', { env: e }))).message).toBe(
      `hf:org/tiny: cannot reach ${hub.baseUrl} (no answer within 0.4 s, the wait HF_HUB_DOWNLOAD_TIMEOUT sets); ${fix}`,
    );
    const s = await downloadSnapshot('hf:org/tiny', { env: e });
    hub.hangNext('api', 1);
    const lines: string[] = [];
    const cached = await downloadSnapshot('hf:org/tiny', { env: e, log: (l) => lines.push(l) });
    expect(cached).toMatchObject({ commit: s.commit, fromCache: true });
    expect(lines).toEqual([
      `hf:org/tiny: cannot reach ${hub.baseUrl} (no answer within 0.4 s, the wait HF_HUB_DOWNLOAD_TIMEOUT sets); ${fix}; using the cached snapshot ${s.commit.slice(0, 12)}`,
    ]);
    // a mirror listing names only asks each file's checksum with a HEAD
    hub.hangNext('config.json', 1);
    expect((await errorOf(downloadSnapshot('hf:org/mirror', { env: env({ HF_HUB_ETAG_TIMEOUT: '0.4' }) }))).message).toBe(
      `hf:org/mirror: cannot reach ${hub.baseUrl} (no answer within 0.4 s, the wait HF_HUB_ETAG_TIMEOUT sets); ${fix}`,
    );
  });

  it('an API answer whose body stops after its headers is given up after HF_HUB_DOWNLOAD_TIMEOUT without data: one line, or the cached snapshot, where it waited forever', async () => {
    const e = env({ HF_HUB_DOWNLOAD_TIMEOUT: '0.4' });
    const fix = 'check HF_ENDPOINT and the network, or set HF_HUB_OFFLINE=1 to use cached models';
    const stopped = `the answer of ${hub.baseUrl} for org/tiny@main stopped (no data within 0.4 s, the wait HF_HUB_DOWNLOAD_TIMEOUT sets); ${fix}`;
    hub.stallNext('api', 20);
    expect((await errorOf(downloadSnapshot('hf:org/tiny', { env: e }))).message).toBe(`hf:org/tiny: ${stopped}`);
    const s = await downloadSnapshot('hf:org/tiny', { env: e });
    hub.stallNext('api', 0);
    const lines: string[] = [];
    expect(await downloadSnapshot('hf:org/tiny', { env: e, log: (l) => lines.push(l) })).toMatchObject({ commit: s.commit, fromCache: true });
    expect(lines).toEqual([`hf:org/tiny: ${stopped}; using the cached snapshot ${s.commit.slice(0, 12)}`]);
  });

  it('a wait set past what a Node timer holds (HF_HUB_DOWNLOAD_TIMEOUT=99999999, about 3 years) waits, where every request was given up after 1 ms', async () => {
    expect(hubSettings({ HF_HUB_DOWNLOAD_TIMEOUT: '99999999', HF_HUB_ETAG_TIMEOUT: '3000000' })).toMatchObject({
      downloadTimeoutMs: 2 ** 31 - 1,
      etagTimeoutMs: 2 ** 31 - 1,
    });
    // each answer 30 ms late: a timer Node cut to 1 ms would abort every request first
    const late: typeof fetch = async (url, init) => {
      await new Promise((r) => setTimeout(r, 30));
      return fetch(url, init);
    };
    const e = env({ HF_HUB_DOWNLOAD_TIMEOUT: '99999999', HF_HUB_ETAG_TIMEOUT: '99999999' });
    const s = await downloadSnapshot('hf:org/mirror', { env: e, fetch: late });
    expect(readFileSync(join(s.dir, 'model.safetensors')).equals(ckpt.files['model.safetensors']!)).toBe(true);
  });

  it("a cached file cut short or written over (its size not the hub's) is downloaded again, saying so, where it was used as it was on every run", async () => {
    const e = env();
    const s = await downloadSnapshot('hf:org/tiny', { env: e });
    truncateSync(realpathSync(join(s.dir, 'model.safetensors')), 1000);
    writeFileSync(realpathSync(join(s.dir, 'config.json')), '{}');
    const lines: string[] = [];
    const again = await downloadSnapshot('hf:org/tiny', { env: e, log: (l) => lines.push(l) });
    expect(again.downloaded).toEqual(['config.json', 'model.safetensors']);
    for (const f of ['config.json', 'vocab.txt', 'model.safetensors']) {
      expect(readFileSync(join(again.dir, f)).equals(ckpt.files[f]!)).toBe(true);
      expect(lstatSync(join(again.dir, f)).isSymbolicLink()).toBe(true);
    }
    const size = ckpt.files['model.safetensors']!.length;
    expect(lines).toContain(
      `hf:org/tiny: the cached model.safetensors (${join(s.dir, 'model.safetensors')}) holds ${formatMB(1000)} but the hub lists ${formatMB(size)}; downloading it again`,
    );
  });

  it('downloads a blob once when two downloads of it run at the same time (the second waits on its lock)', async () => {
    const e = env();
    const file = 'model.safetensors';
    const before = hub.requests.length;
    const lines: string[] = [];
    // The first download's answer for the weights comes late, so the second finds the blob locked and waits.
    const slow: typeof fetch = async (url, init) => {
      if (String(url).includes(file)) await new Promise((r) => setTimeout(r, 500));
      return fetch(url, init);
    };
    const blob = join(e.HF_HOME!, 'hub', 'models--org--tiny', 'blobs', sha256(ckpt.files[file]!));
    const first = downloadSnapshot('hf:org/tiny', { env: e, fetch: slow, log: (l) => lines.push(l) });
    for (let t = 0; !existsSync(lockPath(blob)); t++) {
      if (t > 400) throw new Error('the first download never took the lock');
      await new Promise((r) => setTimeout(r, 10));
    }
    const [a, b] = await Promise.all([first, downloadSnapshot('hf:org/tiny', { env: e, log: (l) => lines.push(l) })]);
    expect(a.dir).toBe(b.dir);
    expect(hub.requests.slice(before).filter((r) => r.kind === 'cdn' && r.file === file)).toHaveLength(1);
    expect(lines.some((l) => l.includes(`which is downloading ${file}`))).toBe(true);
    expect(readFileSync(join(a.dir, file)).equals(ckpt.files[file]!)).toBe(true);
    expect(readdirSync(join(a.repoDir, '..', '.locks', 'models--org--tiny'))).toEqual([]);
  });

  it('takes over the lock of a download whose process has died', async () => {
    const e = env();
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const blob = join(e.HF_HOME!, 'hub', 'models--org--tiny', 'blobs', sha256(ckpt.files['model.safetensors']!));
    mkdirSync(dirname(lockPath(blob)), { recursive: true });
    writeFileSync(lockPath(blob), String(dead));
    const s = await downloadSnapshot('hf:org/tiny', { env: e });
    expect(readFileSync(join(s.dir, 'model.safetensors')).equals(ckpt.files['model.safetensors']!)).toBe(true);
    expect(existsSync(lockPath(blob))).toBe(false);
  });

  it('resumes an .incomplete file left by an earlier run, and starts over when the server ignores Range', async () => {
    for (const ignoreRange of [false, true]) {
      const e = env();
      const file = 'model.safetensors';
      const blob = join(e.HF_HOME!, 'hub', 'models--org--tiny', 'blobs', sha256(ckpt.files[file]!));
      mkdirSync(join(blob, '..'), { recursive: true });
      writeFileSync(`${blob}.incomplete`, ckpt.files[file]!.subarray(0, 1000));
      hub.ignoreRange = ignoreRange;
      const before = hub.requests.length;
      try {
        const s = await downloadSnapshot('hf:org/tiny', { env: e });
        expect(readFileSync(join(s.dir, file)).equals(ckpt.files[file]!)).toBe(true);
      } finally {
        hub.ignoreRange = false;
      }
      const gets = hub.requests.slice(before).filter((r) => r.kind === 'cdn' && r.file === file);
      expect(gets.map((r) => r.range)).toEqual(['bytes=1000-']);
      expect(existsSync(`${blob}.incomplete`)).toBe(false);
    }
  });

  it('an .incomplete file of other bytes (garbage left before) is dropped and the blob downloaded again from byte 0 in the same call', async () => {
    const e = env();
    const file = 'model.safetensors';
    const blob = join(e.HF_HOME!, 'hub', 'models--org--tiny', 'blobs', sha256(ckpt.files[file]!));
    mkdirSync(join(blob, '..'), { recursive: true });
    writeFileSync(`${blob}.incomplete`, Buffer.alloc(1000, 0x7a));
    const before = hub.requests.length;
    const s = await downloadSnapshot('hf:org/tiny', { env: e });
    expect(readFileSync(join(s.dir, file)).equals(ckpt.files[file]!)).toBe(true);
    const gets = hub.requests.slice(before).filter((r) => r.kind === 'cdn' && r.file === file);
    expect(gets.map((r) => r.range)).toEqual(['bytes=1000-', undefined]);
    expect(existsSync(`${blob}.incomplete`)).toBe(false);
  });

  it("a mirror whose API lists names only: each file's checksum is the X-Linked-Etag of its HEAD, not the CDN's ETag it redirects to", async () => {
    const e = env();
    const before = hub.requests.length;
    const s = await downloadSnapshot('hf:org/mirror', { env: e });
    expect(readFileSync(join(s.dir, 'model.safetensors')).equals(ckpt.files['model.safetensors']!)).toBe(true);
    expect(lstatSync(join(s.dir, 'model.safetensors')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(s.dir, 'model.safetensors'))).toBe(`../../blobs/${sha256(ckpt.files['model.safetensors']!)}`);
    const heads = hub.requests.slice(before).filter((r) => r.method === 'HEAD');
    expect(heads.map((r) => r.kind)).toEqual(s.files.map(() => 'resolve'));
    hub.tamper('model.safetensors', Buffer.alloc(ckpt.files['model.safetensors']!.length, 1));
    try {
      const err = await errorOf(downloadSnapshot('hf:org/mirror', { env: env() }));
      expect(err.message).toMatch(
        `hf:org/mirror (model.safetensors): the download does not match the hub's checksum (expected sha256 ${sha256(ckpt.files['model.safetensors']!)}, got `,
      );
    } finally {
      hub.tamper('model.safetensors', undefined);
    }
  });

  it("a mirror whose API lists names only and that gzips text files: a file's size is its HEAD's uncompressed Content-Length (Accept-Encoding: identity, as huggingface_hub asks), not the compressed one", async () => {
    const before = hub.requests.length;
    const s = await downloadSnapshot('hf:org/mirror-gzip', { env: env() });
    for (const f of ['config.json', 'vocab.txt', 'model.safetensors']) expect(readFileSync(join(s.dir, f)).equals(ckpt.files[f]!)).toBe(true);
    const config = hub.requests.slice(before).filter((r) => r.file === 'config.json');
    expect(config.map((r) => [r.method, r.acceptEncoding])).toEqual([
      ['HEAD', 'identity'],
      ['GET', expect.stringMatching(/\bgzip\b/)], // sent compressed, read as the file
    ]);
  });

  it('a folder or link where blobs/<id>.incomplete belongs is removed, never written through, and the blob downloaded', async () => {
    const outside = join(root, 'outside.txt');
    writeFileSync(outside, 'keep');
    for (const make of [(p: string) => mkdirSync(join(p, 'inside'), { recursive: true }), (p: string) => symlinkSync(outside, p)]) {
      const e = env();
      const file = 'model.safetensors';
      const blob = join(e.HF_HOME!, 'hub', 'models--org--tiny', 'blobs', sha256(ckpt.files[file]!));
      mkdirSync(join(blob, '..'), { recursive: true });
      make(`${blob}.incomplete`);
      const s = await downloadSnapshot('hf:org/tiny', { env: e });
      expect(readFileSync(join(s.dir, file)).equals(ckpt.files[file]!)).toBe(true);
      expect(readFileSync(outside, 'utf8')).toBe('keep');
    }
  });

  it("a server whose file is shorter than the hub's listing (its answer complete) is one line, the download removed, not 'run again to resume'", async () => {
    const e = env();
    const file = 'model.safetensors';
    hub.tamper(file, ckpt.files[file]!.subarray(0, 500));
    try {
      const err = await errorOf(downloadSnapshot('hf:org/tiny', { env: e }));
      expect(err.message).toBe(
        `hf:org/tiny (${file}): the server's file ends at 500 B but the hub lists ${formatMB(ckpt.files[file]!.length)}; removed the download, run again (if it recurs, the server or mirror at ${hub.baseUrl} serves another file)`,
      );
    } finally {
      hub.tamper(file, undefined);
    }
    const blobs = join(e.HF_HOME!, 'hub', 'models--org--tiny', 'blobs');
    expect(readdirSync(blobs).filter((f) => f.endsWith('.incomplete'))).toEqual([]);
    const s = await downloadSnapshot('hf:org/tiny', { env: e });
    expect(readFileSync(join(s.dir, file)).equals(ckpt.files[file]!)).toBe(true);
  });

  it('refuses a file whose sha256 does not match and leaves nothing in the snapshot', async () => {
    const e = env();
    const bad = Buffer.from(ckpt.files['model.safetensors']!);
    bad[bad.length - 1] ^= 0xff;
    hub.tamper('model.safetensors', bad);
    let err: Error;
    try {
      err = await errorOf(downloadSnapshot('hf:org/tiny', { env: e }));
    } finally {
      hub.tamper('model.safetensors', ckpt.files['model.safetensors']!);
    }
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toMatch(/^hf:org\/tiny \(model\.safetensors\): the download does not match the hub's checksum \(expected sha256 [0-9a-f]{64}, got/);
    expect(err.message).not.toContain('\n');
    const repoDir = join(e.HF_HOME!, 'hub', 'models--org--tiny');
    expect(existsSync(join(repoDir, 'snapshots'))).toBe(false);
    expect(readdirSync(join(repoDir, 'blobs')).filter((f) => f.includes(sha256(ckpt.files['model.safetensors']!)))).toEqual([]);
    // The next run downloads it anew.
    const s = await downloadSnapshot('hf:org/tiny', { env: e });
    expect(readFileSync(join(s.dir, 'model.safetensors')).equals(ckpt.files['model.safetensors']!)).toBe(true);
  });

  it('sends HF_TOKEN (or $HF_HOME/token) and asks for it on a 401', async () => {
    const e = env();
    const err = await errorOf(downloadSnapshot('hf:org/private', { env: e }));
    expect(err.message).toMatch(/^hf:org\/private: the hub answered 401: org\/private is private or gated \(set HF_TOKEN/);
    const wrong = await errorOf(downloadSnapshot('hf:org/private', { env: { ...e, HF_TOKEN: 'hf_wrong' } }));
    expect(wrong.message).toMatch(/refused the token from HF_TOKEN \(401\)/);
    const before = hub.requests.length;
    const s = await downloadSnapshot('hf:org/private', { env: { ...e, HF_TOKEN: 'hf_secret' } });
    expect(s.files).toContain('model.safetensors');
    const sent = hub.requests.slice(before).filter((r) => r.kind !== 'cdn');
    expect(sent.length).toBeGreaterThan(1);
    expect(sent.every((r) => r.authorization === 'Bearer hf_secret')).toBe(true);
    const fromFile = env();
    mkdirSync(fromFile.HF_HOME!, { recursive: true });
    writeFileSync(join(fromFile.HF_HOME!, 'token'), 'hf_secret\n');
    expect((await downloadSnapshot('hf:org/private', { env: fromFile })).commit).toBe(s.commit);
  });

  it('tries again after a 503 of the API and a 429 of a file (Retry-After honoured), saying so, and downloads', async () => {
    const e = env();
    hub.failNext('api', 503, 1, { 'Retry-After': '0' });
    hub.failNext('model.safetensors', 429, 2, { 'Retry-After': '0' });
    const lines: string[] = [];
    const before = hub.requests.length;
    const s = await downloadSnapshot('hf:org/tiny', { env: e, log: (l) => lines.push(l) });
    expect(readFileSync(join(s.dir, 'model.safetensors')).equals(ckpt.files['model.safetensors']!)).toBe(true);
    const sent = hub.requests.slice(before);
    expect(sent.filter((r) => r.kind === 'api')).toHaveLength(2);
    expect(sent.filter((r) => r.kind === 'resolve' && r.file === 'model.safetensors')).toHaveLength(3);
    expect(lines.filter((l) => /trying again/.test(l))).toEqual([
      'hf:org/tiny: the hub answered HTTP 503 Service Unavailable; trying again in 0 s (try 2 of 4)',
      'hf:org/tiny (model.safetensors): the hub answered HTTP 429 Too Many Requests; trying again in 0 s (try 2 of 4)',
      'hf:org/tiny (model.safetensors): the hub answered HTTP 429 Too Many Requests; trying again in 0 s (try 3 of 4)',
    ]);
  });

  it("a Retry-After that is neither whole seconds nor an HTTP date ('1.5', '-5') is not read as a date of 2001 (no pause): the usual 1-s pause is taken, as huggingface_hub ignores it", async () => {
    for (const value of ['1.5', '-5']) {
      hub.failNext('api', 503, 1, { 'Retry-After': value });
      const lines: string[] = [];
      await downloadSnapshot('hf:org/tiny', { env: env(), log: (l) => lines.push(l) });
      expect(lines.filter((l) => /trying again/.test(l))).toEqual([
        'hf:org/tiny: the hub answered HTTP 503 Service Unavailable; trying again in 1 s (try 2 of 4)',
      ]);
    }
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:30 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(30_000);
    expect(retryAfterMs(' 120 ')).toBe(120_000);
  });

  it('a 5xx that lasts is one line after 4 tries, a 429 asking for a long wait at once; no snapshot', async () => {
    const e = env();
    hub.failNext('config.json', 502, 10, { 'Retry-After': '0' });
    const before = hub.requests.length;
    const err = await errorOf(downloadSnapshot('hf:org/tiny', { env: e }));
    hub.failNext('config.json', 502, 0);
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toBe(`hf:org/tiny (config.json): the hub answered HTTP 502 Bad Gateway 4 times (${hub.baseUrl}); it may be down, run again later`);
    expect(hub.requests.slice(before).filter((r) => r.file === 'config.json')).toHaveLength(4);
    hub.failNext('api', 429, 1, { 'Retry-After': '3600' });
    const limited = await errorOf(downloadSnapshot('hf:org/tiny', { env: e }));
    expect(limited.message).toBe(
      'hf:org/tiny: the hub is limiting the rate of requests (HTTP 429): wait 3600 s and run again, or set HF_TOKEN (requests with a token get a higher limit)',
    );
    expect(existsSync(join(e.HF_HOME!, 'hub', 'models--org--tiny', 'snapshots'))).toBe(false);
    // the hub's own 429 says the wait in its RateLimit header (huggingface_hub's parse_ratelimit_headers), where it was
    // asked again at once three times and then said 'wait a few minutes'
    const tries = hub.requests.length;
    hub.failNext('api', 429, 5, { RateLimit: '"api";r=0;t=120', 'RateLimit-Policy': '"fixed window";"api";q=500;w=300' });
    expect((await errorOf(downloadSnapshot('hf:org/tiny', { env: e }))).message).toBe(
      'hf:org/tiny: the hub is limiting the rate of requests (HTTP 429): wait 121 s and run again, or set HF_TOKEN (requests with a token get a higher limit)',
    );
    expect(hub.requests.length - tries).toBe(1);
    hub.failNext('api', 429, 0);
    // a second more than the reset it says, as huggingface_hub waits (its seconds are rounded down): t=0 was asked
    // again at once
    hub.failNext('api', 429, 1, { RateLimit: '"api";r=0;t=0' });
    const lines: string[] = [];
    await downloadSnapshot('hf:org/tiny', { env: e, log: (l) => lines.push(l) });
    expect(lines.filter((l) => l.includes('429'))).toEqual(['hf:org/tiny: the hub answered HTTP 429 Too Many Requests; trying again in 1 s (try 2 of 4)']);
  });

  it('says a gated repo needs access and HF_TOKEN on a 403, leaving no snapshot', async () => {
    const e = env({ HF_TOKEN: 'hf_someone' });
    const err = await errorOf(downloadSnapshot('hf:org/gated', { env: e }));
    expect(err.message).toBe(
      'hf:org/gated (config.json): access denied (403 GatedRepo): org/gated is gated or private; request access on the hub and set HF_TOKEN to a token of an account that has it (the token from HF_TOKEN was sent)',
    );
    expect(existsSync(join(e.HF_HOME!, 'hub', 'models--org--gated', 'snapshots'))).toBe(false);
  });

  it('downloads the shards a safetensors index names', async () => {
    const e = env();
    const s = await downloadSnapshot('hf:org/sharded', { env: e });
    expect(s.weights).toBe('sharded');
    expect(s.files).toEqual([
      'config.json',
      'vocab.txt',
      'model.safetensors.index.json',
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
    ]);
    for (const f of s.files) expect(existsSync(join(s.dir, f))).toBe(true);
    const o = await downloadSnapshot('hf:org/sharded', { env: { ...e, HF_HUB_OFFLINE: 'on' } } satisfies SnapshotOptions);
    expect(o.files).toEqual(s.files);
  });

  it('refuses a safetensors index that is not UTF-8 in one line naming the byte offset before any shard is downloaded, where the shards were downloaded and only the build refused it', async () => {
    const files = sharded(ckpt);
    const index = files['model.safetensors.index.json']!.toString('utf8').replace('"metadata":{}', '"metadata":{"note":"caf\u00e9"}');
    files['model.safetensors.index.json'] = Buffer.from(index, 'latin1');
    hub.addCommit('org/latin1-index', files);
    const err = await errorOf(downloadSnapshot('hf:org/latin1-index', { env: env() }));
    expect(err).toBeInstanceOf(NotUtf8Error);
    expect(err.message).toMatch(/^hf:org\/latin1-index \(model\.safetensors\.index\.json\): \S+: not valid UTF-8 text \(at byte offset \d+: e9 22 7d 2c\)$/);
    const shardRequests = hub.requests.filter((r) => r.path.includes('/org/latin1-index/') && r.file?.endsWith('-of-00002.safetensors'));
    expect(shardRequests).toEqual([]);
  });

  it('refuses a repo with only pytorch_model.bin, naming safetensors', async () => {
    const err = await errorOf(downloadSnapshot('hf:org/pickled', { env: env() }));
    expect(err.message).toBe(
      'hf:org/pickled: the repo has pytorch_model.bin but no model.safetensors (nor onnx/model.onnx); bert-compress reads only safetensors or ONNX weights',
    );
    // (its shards alone, without their index: named, where the repo was said to have no weights)
    expect((await errorOf(downloadSnapshot('hf:org/pickled-shards', { env: env() }))).message).toBe(
      'hf:org/pickled-shards: the repo has pytorch_model-00001-of-00002.bin, pytorch_model-00002-of-00002.bin but no model.safetensors (nor onnx/model.onnx); bert-compress reads only safetensors or ONNX weights',
    );
  });

  it('takes repos without an organization', async () => {
    const e = env();
    const s = await downloadSnapshot('hf:bare', { env: e });
    expect(s.dir).toBe(join(e.HF_HOME!, 'hub', 'models--bare', 'snapshots', s.commit));
  });
});

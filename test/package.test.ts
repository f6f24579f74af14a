/**
 * The package as a user gets it: `npm pack` (whose `prepack` builds dist/ with tsc) in a copy of this checkout, the
 * tarball unpacked into an empty folder the way npm installs it (node_modules/bert-compress and the `compress` bin
 * link), then the installed `compress` and library run from there. Where this checkout's dist/ is the build of its
 * sources as they are now (CI runs `npm run build` before the tests), the copy packs that dist/ with --ignore-scripts
 * instead of building it a second time: the tarball is the same, and a dist/ older than the sources is built again.
 * The test must work offline, so the production dependencies are linked one by one from this checkout's node_modules
 * instead of fetched; no npm command runs in that folder, which holds links into this checkout. Neither tsx nor
 * TypeScript can be found from the package.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveModel } from '../src/onnx/index.ts';
import { BUILT_CODE, codeFingerprint, codeHash } from '../src/version.ts';
import { writeGlueTask, writeModelFolder } from './helpers/model-folder.ts';
import { tinyBert } from './helpers/models.ts';

const REPO = resolve(__dirname, '..');
const PACKAGE = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  exports: Record<string, unknown>;
  typesVersions?: Record<string, Record<string, string[]>>;
  engines: { node: string };
  scripts: Record<string, string>;
};
/** What `npm pack` needs from the checkout to build and pack. */
const PACK_SOURCES = ['package.json', 'README.md', 'LICENSE', 'tsconfig.json', 'tsconfig.build.json', 'bin', 'src', 'scripts', 'examples'];
/** The files besides src/ and package.json that decide what `npm run build` writes (the build record hashes those two). */
const BUILD_INPUTS = ['tsconfig.json', 'tsconfig.build.json', join('scripts', 'finish-build.ts')];

const root = mkdtempSync(join(tmpdir(), 'bert-compress-package-'));
const app = join(root, 'app');
const installed = join(app, 'node_modules', 'bert-compress');
const bin = join(app, 'node_modules', '.bin', 'compress');
let files: string[] = [];

function run(command: string, args: string[], cwd: string) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Links `name` (a package folder) from this checkout's node_modules into `app`. */
function linkDependency(name: string): void {
  const link = join(app, 'node_modules', name);
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(join(REPO, 'node_modules', name), link);
}

/**
 * Whether `pkg`'s dist/ is what `npm run build` writes for `pkg`'s sources: its build record (BUILT_CODE) names the
 * codeHash of these src/ and of this dist/, and is newer than the other build inputs.
 */
function builtFromSources(pkg: string): boolean {
  const record = join(pkg, 'dist', BUILT_CODE);
  if (!existsSync(record)) return false;
  const { source, built } = JSON.parse(readFileSync(record, 'utf8')) as { source?: unknown; built?: unknown };
  const writtenAt = statSync(record).mtimeMs;
  return (
    source === codeHash(join(pkg, 'src')) && built === codeHash(join(pkg, 'dist')) && BUILD_INPUTS.every((f) => statSync(join(REPO, f)).mtimeMs <= writtenAt)
  );
}

/** What a declaration file declares or re-exports under `name`: a function, a class, a constant or a type, generic or not. */
interface Declared {
  kind: 'function' | 'class' | 'const' | 'type';
  generic: boolean;
}

/** Where `name` is declared, following `export … from`, `export * from` and `import … from` in the .d.ts `file`. */
function declaredIn(file: string, name: string, seen = new Set<string>()): Declared | undefined {
  if (seen.has(`${file}#${name}`) || !existsSync(file)) return undefined;
  seen.add(`${file}#${name}`);
  const text = readFileSync(file, 'utf8');
  const target = (specifier: string) => resolve(dirname(file), specifier.replace(/\.js$/, '.d.ts'));
  const own = new RegExp(`^export (?:declare )?(?:abstract )?(function|class|const|interface|type|enum) ${name}\\b(\\s*<)?`, 'm').exec(text);
  if (own) return { kind: own[1] === 'interface' ? 'type' : own[1] === 'enum' ? 'class' : (own[1] as Declared['kind']), generic: !!own[2] };
  for (const m of text.matchAll(/\b(?:export|import)\s+(?:type\s+)?\{([^}]*)\}\s*from\s*['"](\.[^'"]+)['"]/g)) {
    for (const part of m[1]!.split(',')) {
      const [from, as] = part
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/);
      if ((as ?? from)?.trim() === name) return declaredIn(target(m[2]!), from!.trim(), seen);
    }
  }
  for (const m of text.matchAll(/\bexport\s+(?:type\s+)?\*\s+from\s*['"](\.[^'"]+)['"]/g)) {
    const found = declaredIn(target(m[1]!), name, seen);
    if (found) return found;
  }
  return undefined;
}

/** The names a .d.ts entry point exports (its own declarations, export lists and `export *`'s). */
function exportedNames(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  const names = [...text.matchAll(/^export (?:declare )?(?:abstract )?(?:function|class|const|interface|type|enum) (\w+)/gm)].map((m) => m[1]!);
  for (const m of text.matchAll(/\bexport\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of m[1]!.split(',')) {
      const name = part
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop()
        ?.trim();
      if (name) names.push(name);
    }
  }
  for (const m of text.matchAll(/\bexport\s+(?:type\s+)?\*\s+from\s*['"](\.[^'"]+)['"]/g))
    names.push(...exportedNames(resolve(dirname(file), m[1]!.replace(/\.js$/, '.d.ts')), seen));
  return [...new Set(names)];
}

/**
 * A consumer module whose exports have, as types TypeScript must write into its declarations, the result and
 * parameters of every exported function, the constructor parameters and the public members of every exported class,
 * the type of every exported constant and the properties of every exported type that takes no type parameters, of
 * every entry point: a type among them that no entry point exports cannot be named there (TS2883).
 */
function typeProbe(): string {
  const lines = [
    'declare function v<T>(): T;',
    'type Result<F> = F extends (...a: any) => infer R ? R : never;',
    'type Params<F> = F extends (...a: infer P) => any ? P : never;',
    'type Made<C> = C extends abstract new (...a: infer P) => any ? P : never;',
  ];
  Object.entries(PACKAGE.exports)
    .filter(([k]) => k !== './package.json')
    .forEach(([key, entry], i) => {
      const types = join(installed, (entry as { types: string }).types);
      const ns = `m${i}`;
      lines.push(`import * as ${ns} from 'bert-compress${key.slice(1)}';`);
      for (const name of exportedNames(types)) {
        const d = declaredIn(types, name);
        if (!d) throw new Error(`${key}: ${name} is exported but its declaration was not found`);
        const x = `${ns}.${name}`;
        const probe = `export const ${ns}_${name}`;
        if (d.kind === 'function') lines.push(`${probe}_r = v<Result<typeof ${x}>>();`, `${probe}_p = v<Params<typeof ${x}>>();`);
        else if (d.kind === 'class') lines.push(`${probe}_c = v<Made<typeof ${x}>>();`, `${probe}_i = v<{ [K in keyof ${x}]: ${x}[K] }>();`);
        else if (d.kind === 'const') lines.push(`${probe}_v = ${x};`);
        else if (!d.generic) lines.push(`${probe}_t = v<{ [K in keyof ${x}]-?: ${x}[K] }>();`);
      }
    });
  return `${lines.join('\n')}\n`;
}

beforeAll(() => {
  const pkg = join(root, 'pkg');
  for (const f of PACK_SOURCES) cpSync(join(REPO, f), join(pkg, f), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(pkg, 'node_modules'));
  // (the copy's dist/, checked after copying: a build running in the checkout meanwhile cannot mix two builds)
  if (existsSync(join(REPO, 'dist'))) cpSync(join(REPO, 'dist'), join(pkg, 'dist'), { recursive: true, preserveTimestamps: true });
  const prebuilt = builtFromSources(pkg);
  if (!prebuilt) rmSync(join(pkg, 'dist'), { recursive: true, force: true });
  const pack = run('npm', ['pack', '--json', '--pack-destination', root, ...(prebuilt ? ['--ignore-scripts'] : [])], pkg);
  if (pack.code !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
  const [{ filename, files: packed }] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  files = packed.map((f) => f.path);

  mkdirSync(installed, { recursive: true });
  const untar = run('tar', ['-xzf', join(root, filename), '-C', installed, '--strip-components=1'], root);
  if (untar.code !== 0) throw new Error(`tar failed: ${untar.stderr}`);
  for (const name of Object.keys(PACKAGE.dependencies)) linkDependency(name);
  linkDependency('@types/node');
  mkdirSync(dirname(bin), { recursive: true });
  symlinkSync('../bert-compress/bin/compress.mjs', bin);
  chmodSync(join(installed, 'bin', 'compress.mjs'), 0o755);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
}, 300_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the packed tarball', () => {
  it('ships the compiled library with its declarations, the bin and package.json, and no sources or tests', () => {
    expect(files).toContain('bin/compress.mjs');
    expect(files).toContain('package.json');
    expect(files).toContain('dist/cli/index.js');
    expect(files).toContain('dist/sweep/worker-main.js');
    expect(files).toContain('LICENSE');
    // the ONNX schema compiled into dist/onnx/onnx-schema.js is Apache-2.0: its license travels with it
    expect(files).toContain('dist/onnx/onnx-ml.proto.LICENSE');
    for (const entry of Object.values(PACKAGE.exports)) {
      if (typeof entry !== 'object' || entry === null) continue;
      for (const target of Object.values(entry as Record<string, string>)) expect(files).toContain(target.replace(/^\.\//, ''));
    }
    for (const [targets] of Object.values(PACKAGE.typesVersions?.['*'] ?? {})) expect(files).toContain(targets!.replace(/^\.\//, ''));
    const stray = files.filter(
      (f) => !(f.startsWith('dist/') || /^examples\/[\w.-]+\.yaml$/.test(f) || ['bin/compress.mjs', 'package.json', 'README.md', 'LICENSE'].includes(f)),
    );
    expect(stray).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('ships the example sweep files that the README and the messages of compress name', () => {
    const text = [
      readFileSync(join(installed, 'README.md'), 'utf8'),
      ...files.filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(installed, f), 'utf8')),
    ];
    const named = [...new Set(text.flatMap((t) => t.match(/\bexamples\/[\w.-]+\.yaml\b/g) ?? []))];
    expect(named).toContain('examples/tinybert-sst2.yaml');
    expect(named.filter((f) => !files.includes(f))).toEqual([]);
  });

  it('has declarations whose relative imports name the shipped .js files, not the .ts sources', () => {
    const declarations = files.filter((f) => f.endsWith('.d.ts'));
    expect(declarations).toContain('dist/glue/index.d.ts');
    const sourceImports = declarations.flatMap((f) =>
      (readFileSync(join(installed, f), 'utf8').match(/(?:from\s*|import\s*\(\s*|import\s+)['"]\.\.?\/[^'"\n]*\.ts['"]/g) ?? []).map((m) => `${f}: ${m}`),
    );
    expect(sourceImports).toEqual([]);
    expect(readFileSync(join(installed, 'dist', 'glue', 'index.d.ts'), 'utf8')).toContain("from './tasks.js'");
  });
});

describe('package.json', () => {
  it('builds dist/ before `npm pack` packs it (the build this test packs, or reuses where it is fresh)', () => {
    expect(PACKAGE.scripts.prepack).toBe('npm run build');
  });

  it("maps each subpath's declarations for TypeScript's older `node` (node10) resolution too, which reads no `exports`", () => {
    // (TypeScript 5's default for `module: commonjs`: without typesVersions, `import … from 'bert-compress/onnx'` there
    // is TS2307 "Cannot find module 'bert-compress/onnx' or its corresponding type declarations", though Node runs it)
    const subpaths = Object.entries(PACKAGE.exports)
      .filter(([k, v]) => k !== '.' && typeof v === 'object' && v !== null && 'types' in v)
      .map(([k, v]) => [k.slice(2), [(v as { types: string }).types]]);
    expect(subpaths.length).toBeGreaterThan(5);
    expect(PACKAGE.typesVersions).toEqual({ '*': Object.fromEntries(subpaths) });
  });

  it('admits only the Node versions every production dependency supports (no EBADENGINE warning on install)', () => {
    const semver = createRequire(join(REPO, 'package.json'))('semver') as {
      satisfies(version: string, range: string): boolean;
    };
    const majors = Array.from({ length: 8 }, (_, i) => 20 + i);
    const versions = [...majors.flatMap((m) => [`${m}.0.0`, `${m}.11.0`, `${m}.12.0`, `${m}.18.0`, `${m}.19.0`]), process.versions.node];
    const admitted = versions.filter((v) => semver.satisfies(v, PACKAGE.engines.node));
    expect(admitted).toContain(process.versions.node);
    const refused: string[] = [];
    for (const name of Object.keys(PACKAGE.dependencies)) {
      const range = (JSON.parse(readFileSync(join(REPO, 'node_modules', name, 'package.json'), 'utf8')) as { engines?: { node?: string } }).engines?.node;
      // better-sqlite3 lists the majors it has prebuilt binaries for: past the newest, it builds from source
      if (!range || name === 'better-sqlite3') continue;
      for (const v of admitted) if (!semver.satisfies(v, range)) refused.push(`${name} (${range}) refuses Node ${v}`);
    }
    expect(refused).toEqual([]);
  });
});

describe('production dependencies', () => {
  it('are each loaded by the compiled package (one only the tests use is a dev dependency, not installed for users)', () => {
    const compiled = files.filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(installed, f), 'utf8'));
    const unused = Object.keys(PACKAGE.dependencies).filter((name) => !compiled.some((text) => text.includes(`'${name}'`) || text.includes(`'${name}/`)));
    expect(unused).toEqual([]);
  });
});

describe('installed into an empty folder', () => {
  it('finds neither tsx nor TypeScript from the package', () => {
    const from = createRequire(join(installed, 'package.json'));
    expect(() => from.resolve('tsx')).toThrow(/Cannot find module/);
    expect(() => from.resolve('typescript')).toThrow(/Cannot find module/);
  });

  it('compress --version prints the package version', () => {
    const r = run(bin, ['--version'], app);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${PACKAGE.version}\n`);
  });

  it("has the code fingerprint of the checkout it was packed from (a queue worker's copy and its coordinator's), another once its dist/ is edited", () => {
    const fingerprint = (pkg: string) => {
      const url = pathToFileURL(join(pkg, 'dist', 'version.js')).href;
      const r = run(process.execPath, ['--input-type=module', '-e', `process.stdout.write(String((await import('${url}')).codeFingerprint()))`], app);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    expect(fingerprint(installed)).toBe(codeFingerprint());
    const edited = join(root, 'edited');
    cpSync(join(installed, 'dist'), join(edited, 'dist'), { recursive: true });
    cpSync(join(installed, 'package.json'), join(edited, 'package.json'));
    appendFileSync(join(edited, 'dist', 'errors.js'), '\n// edited\n');
    const changed = fingerprint(edited);
    expect([changed === codeFingerprint(), changed.length]).toEqual([false, 64]);
  });

  it('compress inspect and a compression run from the compiled CLI', () => {
    const model = join(app, 'tiny', 'model.onnx');
    saveModel(tinyBert({}, { std: 0.2 }), model);
    const inspect = run(bin, ['inspect', model, '--json'], app);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ numLayers: 2, numHeads: 4, hiddenSize: 32, vocabSize: 128 });
    const out = join(app, 'out', 'model.onnx');
    const compress = run(bin, [model, '--prune-heads', '0.5', '-o', out], app);
    expect(compress.code, compress.stderr).toBe(0);
    expect(JSON.parse(readFileSync(`${out}.json`, 'utf8')).after.params).toBeLessThan(JSON.parse(inspect.stdout).params);
  });

  it('runs sweep points in compiled worker processes (--jobs 2)', () => {
    const dir = join(app, 'sweep');
    writeGlueTask(join(dir, 'glue'), 'SST-2', 12, ['train', 'dev']);
    writeModelFolder(join(dir, 'model'), tinyBert({}, { seed: 3 }));
    writeFileSync(
      join(dir, 'sweep.yaml'),
      [
        'name: packaged',
        'glueDir: glue',
        'models:',
        '  - {path: model, tasks: [SST-2]}',
        'calibration: false',
        'pipelines:',
        '  - baseline',
        '  - name: ffn-50',
        '    steps:',
        '      - {pass: prune-ffn, settings: {ratio: 0.5}}',
        'bench: {batch: [1], seq: [8], repeats: 2, warmup: 1, threads: 1}',
        'eval: {threads: 1}',
      ].join('\n') + '\n',
    );
    const store = join(dir, 'sweep.sqlite');
    const r = run(bin, ['sweep', join(dir, 'sweep.yaml'), '--store', store, '--jobs', '2'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(store)).toBe(true);
    const report = run(bin, ['report', store, '--format', 'json', '--out', join(dir, 'report')], dir);
    expect(report.code, report.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'report', 'report.json'), 'utf8')) as { rows: unknown[]; failed: unknown[] };
    expect(json.failed).toEqual([]);
    expect(json.rows).toHaveLength(2);
  });

  it('exports from its entry points every type their exports name (a consumer writing declarations can name them)', () => {
    const dir = join(app, 'probe');
    mkdirSync(dir, { recursive: true });
    const probe = typeProbe();
    writeFileSync(join(dir, 'probe.ts'), probe);
    expect(probe).toMatch(/m0_evaluate_p = /);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          declaration: true,
          emitDeclarationOnly: true,
          outDir: 'out',
          skipLibCheck: true,
          types: ['node'],
        },
        files: ['probe.ts'],
      }),
    );
    const tsc = run(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], dir);
    // (zod's own types, which a settings schema is, name zod's internal ones: not this package's to export)
    const errors = (tsc.stdout + tsc.stderr)
      .split('\n')
      .filter((l) => /error TS/.test(l) && !/from '[^']*node_modules\/zod\//.test(l))
      .map((l) => l.replace(/^probe\.ts\(\d+,\d+\): /, '').replace(/ This is likely not portable.*$/, ''));
    expect(errors).toEqual([]);
  });

  it('every library entry point imports, and type-checks from a TypeScript consumer (strict, NodeNext)', () => {
    const names = Object.keys(PACKAGE.exports)
      .filter((k) => k !== './package.json')
      .map((k) => `bert-compress${k.slice(1)}`);
    const probe = `for (const n of ${JSON.stringify(names)}) { const m = await import(n); if (!Object.keys(m).length) throw new Error(n + ' exports nothing'); }`;
    const imports = run(process.execPath, ['--input-type=module', '-e', probe], app);
    expect(imports.code, imports.stderr).toBe(0);
    // CommonJS apps require() the ES modules (Node ≥ 20.19): a top-level await anywhere in an entry point's module
    // graph (vega-canvas's) makes that fail with ERR_REQUIRE_ASYNC_MODULE
    writeFileSync(
      join(app, 'require-all.cjs'),
      `for (const n of ${JSON.stringify(names)}) { const m = require(n); if (!Object.keys(m).length) throw new Error(n + ' exports nothing'); }\n`,
    );
    const required = run(process.execPath, ['require-all.cjs'], app);
    expect(required.code, required.stderr).toBe(0);
    writeFileSync(
      join(app, 'consumer.ts'),
      `import { findBert, loadModel, locateModel, compressFile, evaluate, openSession, runTraining, type DistillSettings, type Session, type TrainSettings } from 'bert-compress';
import { decodeModel } from 'bert-compress/onnx';
import { modelInputs, type BertStructure } from 'bert-compress/bert';
import { runPipeline } from 'bert-compress/passes';
import { scoreTask } from 'bert-compress/eval';
import { benchModels } from 'bert-compress/bench';
import { runSweep } from 'bert-compress/sweep';
import { renderReport } from 'bert-compress/report';
import { appendLoss, buildGradientGraph, type GradientGraph } from 'bert-compress/gradients';
const structure: BertStructure = findBert(loadModel(locateModel('model.onnx').onnx));
// @ts-expect-error a structure is not a number: the declarations carry real types, not any
const wrong: number = findBert(decodeModel(new Uint8Array()));
const gradients: (graph: GradientGraph) => unknown = (g) => g;
// the option types of evaluate's model and of runTraining's settings, named
const scored = async (session: Session) => evaluate({ model: session, tasks: ['SST-2'] });
const settings: Partial<TrainSettings> = { lr: 1e-4 };
const distill: Partial<DistillSettings> = { temperature: 2 };
const trained = () => runTraining({ student: 'model', task: 'SST-2', output: 'out/model.onnx', settings, distill });
export const used = [structure, wrong, compressFile, evaluate, modelInputs, runPipeline, scoreTask, benchModels, runSweep, renderReport, appendLoss, buildGradientGraph, gradients, openSession, scored, trained];
`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          types: ['node'],
          skipLibCheck: false,
        },
        files: ['consumer.ts'],
      }),
    );
    const tsc = run(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], app);
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
  });
});

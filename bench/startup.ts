/**
 * Start-up of `compress`, whole process (spawn to exit), as a user meets it: `compress --version` (aim ≤ 0.3 s),
 * and `compress --help` (yargs and every command's modules loaded) from the compiled dist/ laid out as the installed
 * package (bin/, dist/, package.json; no src/) and from the sources through tsx (a checkout). Bare `node -e ''` runs
 * in the same rounds as the floor. Runs are interleaved, hyperfine-style: each round runs every command once, in turn.
 * dist/ is built first (`npm run build`).
 *
 *   npm run bench -- startup                 # node bin/run-ts.mjs bench/startup.ts [--runs 15]
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median, quantile } from '../src/bench/stats.ts';
import { describeMachine, machineInfo } from '../src/bench/machine.ts';
import { checkFlags, wholeArg } from './args.ts';

const VERSION_AIM_S = 0.3;
const argv = process.argv.slice(2);
checkFlags('startup', argv);
const runs = wholeArg('--runs', 15, 1, argv);

const repo = resolve('.');
const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: repo, encoding: 'utf8' });
if (build.status !== 0) console.log(`npm run build exited with ${build.status} (type errors?); measuring the dist/ it wrote\n${build.stdout}`);
if (!existsSync(join(repo, 'dist', 'cli', 'index.js'))) {
  console.error('dist/cli/index.js is missing: npm run build wrote no CLI');
  process.exit(1);
}

// The installed layout: bin/compress.mjs with dist/ beside it and no src/, so the bin runs the compiled CLI.
const installed = mkdtempSync(join(tmpdir(), 'bench-startup-'));
mkdirSync(join(installed, 'bin'));
copyFileSync(join(repo, 'bin', 'compress.mjs'), join(installed, 'bin', 'compress.mjs'));
copyFileSync(join(repo, 'package.json'), join(installed, 'package.json'));
symlinkSync(join(repo, 'dist'), join(installed, 'dist'));

const commands: ReadonlyArray<{ name: string; args: string[] }> = [
  { name: "node -e ''", args: ['-e', ''] },
  { name: 'compress --version (installed)', args: [join(installed, 'bin', 'compress.mjs'), '--version'] },
  { name: 'compress --version (checkout)', args: [join(repo, 'bin', 'compress.mjs'), '--version'] },
  { name: 'compress --help (installed: dist/)', args: [join(installed, 'bin', 'compress.mjs'), '--help'] },
  { name: 'compress --help (checkout: src/ through tsx)', args: [join(repo, 'bin', 'compress.mjs'), '--help'] },
];

try {
  const seconds = commands.map(() => [] as number[]);
  for (let round = 0; round < runs + 1; round++) {
    for (const [i, c] of commands.entries()) {
      const start = performance.now();
      const r = spawnSync(process.execPath, c.args, { encoding: 'utf8' });
      const s = (performance.now() - start) / 1000;
      if (r.status !== 0) throw new Error(`${c.name} exited with ${r.status}: ${r.stderr.split('\n')[0]}`);
      if (round > 0) seconds[i]!.push(s); // round 0 warms the file cache
    }
  }
  console.log(`node ${process.version}; machine: ${describeMachine(machineInfo())}`);
  console.log(`${runs} interleaved runs each, whole process (spawn to exit), seconds:`);
  console.log(`  ${'command'.padEnd(46)}${'median'.padStart(8)}${'p90'.padStart(8)}${'min'.padStart(8)}`);
  for (const [i, c] of commands.entries()) {
    const xs = seconds[i]!;
    console.log(
      `  ${c.name.padEnd(46)}${median(xs).toFixed(3).padStart(8)}${quantile(xs, 0.9).toFixed(3).padStart(8)}${Math.min(...xs)
        .toFixed(3)
        .padStart(8)}`,
    );
  }
  const version = median(seconds[1]!);
  console.log(`compress --version (installed): median ${version.toFixed(3)} s, aim ≤ ${VERSION_AIM_S} s: ${version <= VERSION_AIM_S ? 'met' : 'MISSED'}`);
} finally {
  rmSync(installed, { recursive: true, force: true });
}

/**
 * What a benchmark ran on: the CPU model and the SIMD flags that decide int8 speed (AVX2, AVX-512, VNNI, AMX), the core
 * count, the onnxruntime and Node versions and the thread setting. Read from /proc/cpuinfo where there is one.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { defaultThreads, runtimeVersion } from '../runtime/session.ts';
import { counted } from '../errors.ts';

/** The instruction-set extensions that matter for onnxruntime's CPU kernels. */
export interface CpuFlags {
  avx2: boolean;
  /** AVX-512 Foundation. */
  avx512: boolean;
  /** Vector Neural Network Instructions (int8 dot products): AVX512-VNNI or AVX-VNNI. */
  vnni: boolean;
  /**
   * AMX int8 tile instructions (Intel Xeon since Sapphire Rapids), which onnxruntime's int8 products use where present:
   * int8 runs about 4.3 times as fast as float there, about 3 times elsewhere. Absent in records made before it was read.
   */
  amx?: boolean;
}

export interface CpuInfo {
  /** 'model name' of the first processor, e.g. 'Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz'. */
  model: string;
  /** Logical processors available to this process. */
  cores: number;
  flags: CpuFlags;
}

export interface MachineInfo {
  cpu: CpuInfo;
  /** onnxruntime-node version. */
  onnxruntime: string;
  node: string;
  /** Intra-op threads used (one per physical core unless asked otherwise); 0 in older records: onnxruntime's own default. */
  threads: number;
}

/**
 * Whether onnxruntime's int8 products can saturate on a CPU with `flags`: its x86 uint8 × int8 kernels without
 * AVX-512 VNNI / AVX-VNNI add pairs of products in 16 bits (full-range int8 weights can overflow them). Elsewhere
 * (VNNI, AMX, or not x86 with AVX2) they add in 32 bits.
 */
export function int8Saturates(flags: CpuFlags): boolean {
  return flags.avx2 && !flags.vnni;
}

/** Parses /proc/cpuinfo text: the first processor's model name and flags (an empty text gives unknown/false). */
export function parseCpuInfo(text: string): { model: string; flags: CpuFlags } {
  const field = (name: string): string | undefined => {
    const m = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text);
    return m?.[1]?.trim();
  };
  const flags = new Set((field('flags') ?? '').split(/\s+/).filter(Boolean));
  return {
    model: field('model name') ?? 'unknown',
    flags: {
      avx2: flags.has('avx2'),
      avx512: flags.has('avx512f'),
      vnni: flags.has('avx512_vnni') || flags.has('avx_vnni'),
      amx: flags.has('amx_int8'),
    },
  };
}

/** This machine's CPU. */
export function cpuInfo(): CpuInfo {
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // Not Linux: the model name still comes from os.cpus(); the flags stay unknown (false).
  }
  const parsed = parseCpuInfo(text);
  const model = parsed.model !== 'unknown' ? parsed.model : (cpus()[0]?.model ?? 'unknown');
  return { model, cores: availableParallelism(), flags: parsed.flags };
}

/** The machine record of a benchmark run with `threads` intra-op threads. */
export function machineInfo(threads = 0): MachineInfo {
  return { cpu: cpuInfo(), onnxruntime: runtimeVersion(), node: process.versions.node, threads: threads > 0 ? threads : defaultThreads() };
}

/** One line: 'Intel Xeon … (2 cores; avx2 avx512 vnni amx), onnxruntime 1.30.0, 1 thread'. */
export function describeMachine(m: MachineInfo): string {
  const flags = (Object.keys(m.cpu.flags) as Array<keyof CpuFlags>).filter((f) => m.cpu.flags[f]);
  const threads = m.threads > 0 ? counted(m.threads, 'thread') : 'default threads';
  return `${m.cpu.model} (${m.cpu.cores} cores; ${flags.join(' ') || 'no avx2/avx512/vnni/amx'}), onnxruntime ${m.onnxruntime}, ${threads}`;
}

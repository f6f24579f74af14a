/** The checked-in WebAssembly modules are what `npm run wasm` writes for their .wat sources. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WASM_KERNELS, renderWasmModule } from '../../scripts/make-wasm.ts';

describe('generated WebAssembly modules', () => {
  it.each(WASM_KERNELS.map((k) => [k.module.split('/').pop()!, k] as const))('%s is current', async (_name, kernel) => {
    expect(await renderWasmModule(kernel, readFileSync(kernel.wat, 'utf8'))).toBe(readFileSync(kernel.module, 'utf8'));
  });
});

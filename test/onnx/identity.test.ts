/**
 * A model's identity (modelSha256) and the external data files it names (externalDataFiles): an inline model is
 * its file's hash; one with external data hashes the data files too; a file that is not a model names none.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../../src/files.ts';
import { externalDataFiles, modelSha256 } from '../../src/onnx/identity.ts';

describe('a file that is not an ONNX model', () => {
  it('names no external data files and is identified by its own hash, rather than failing on a protobuf error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'identity-'));
    const path = join(dir, 'model.onnx');
    // field 1 with wire type 7 (there is none), then the bytes 'location'
    writeFileSync(path, Buffer.concat([Buffer.from([0x0f]), Buffer.from('location, location')]));
    expect(externalDataFiles(path)).toEqual([]);
    expect(await modelSha256(path)).toBe(await sha256File(path));
  });
});

/** Finding a model's .onnx file (src/onnx/locate.ts): what is not a file or folder is refused in one line. */
import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/errors.ts';
import { locateModel } from '../../src/onnx/locate.ts';

describe('locateModel', () => {
  it('refuses a device as MODEL, saying it is not a model file or folder', () => {
    expect(() => locateModel('/dev/null')).toThrow(ModelLoadError);
    expect(() => locateModel('/dev/null')).toThrow(/^\/dev\/null: not a model file or folder \(a device, pipe or socket\)$/);
  });

  it('refuses a missing path', () => {
    expect(() => locateModel('/no/such/model')).toThrow(/^\/no\/such\/model: no such file or folder$/);
  });
});

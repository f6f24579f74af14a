/**
 * A kill just before a model is written, for tests of resumed training, inside a `vi.mock('…/src/onnx/save.ts', …)`
 * factory: `killableSave(save, kill)` gives a `saveModel` that, while `kill.armed` is set, disarms it and throws as if
 * the process died there (the checkpoints stay). `kill` is the test's `vi.hoisted` state; the factory imports this
 * module with `await import`.
 */
import type * as Save from '../../src/onnx/save.ts';

export function killableSave(save: typeof Save, kill: { armed: boolean }): typeof Save {
  return {
    ...save,
    saveModel: (...args: Parameters<typeof save.saveModel>) => {
      if (kill.armed) {
        kill.armed = false;
        throw new Error('killed before the model was written');
      }
      return save.saveModel(...args);
    },
  };
}

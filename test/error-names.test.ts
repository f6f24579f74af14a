/**
 * Each error class of src/errors.ts names itself (`override name`): a subclass that sets none reads as its parent
 * (NonFiniteInputError read as 'ModelLoadError' in a stack trace or `String(e)`).
 */
import { describe, expect, it } from 'vitest';
import * as errors from '../src/errors.ts';

type ErrorClass = new (message: string) => Error;
const classes = Object.entries(errors)
  .filter(([, value]) => typeof value === 'function' && value.prototype instanceof Error)
  .map(([name, value]) => [name, value as unknown as ErrorClass] as const);

describe('error class names', () => {
  it('each error class of src/errors.ts gives its own name', () => {
    expect(classes.map(([name]) => name)).toContain('NonFiniteInputError');
    expect(classes.map(([name, C]) => [name, new C('x').name])).toEqual(classes.map(([name]) => [name, name]));
  });
});

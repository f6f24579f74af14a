/** The hub layer's error: a UserError (one line, no stack trace) naming the model reference and the fault. */
import { UserError } from '../errors.ts';

/** A model reference that cannot be used: bad syntax, no such repo, revision or file, no access, no network, not cached. */
export class HubError extends UserError {
  override name = 'HubError';
}

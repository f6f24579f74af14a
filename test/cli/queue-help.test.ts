/**
 * `--queue`'s help gives the URL's whole form, a password and TLS included, as the README's distributed sweeps do
 * (`Q=redis://:SECRET@queue-host:6379/0`) and as parseQueueUrl reads it: it said redis://HOST:PORT[/DB], with no
 * place for the password a shared Redis needs, and a port that is optional.
 */
import { describe, expect, it } from 'vitest';
import { runMain } from '../helpers/cli.ts';

describe('--queue help', () => {
  it.each(['sweep', 'worker'])('%s --help gives the URL with its password and TLS', async (command) => {
    const r = await runMain([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('--queue redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (rediss:// for TLS):');
  });
});

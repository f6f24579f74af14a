/**
 * An answer of the hub's API that is not JSON (a proxy's or a captive portal's HTML page, answered 200) is refused in
 * one line, its reason as every JSON file's (jsonSyntaxReason): V8's quote of the text kept whole, its line breaks
 * escaped, without its own 'is not valid JSON', where the quote was cut at its first line break.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadSnapshot, HubError } from '../../src/hub/index.ts';

const root = mkdtempSync(join(tmpdir(), 'hub-not-json-'));
let page = '<!DOCTYPE html>\n<html><body>Sign in to the proxy</body></html>\n';
let server: Server;
let endpoint: string;
beforeAll(async () => {
  server = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(page));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((done) => server.close(done));
  rmSync(root, { recursive: true, force: true });
});

describe("the hub's answer that is not JSON", () => {
  it('is refused in one line, quoting the text as every JSON file is refused', async () => {
    const e = await downloadSnapshot('hf:org/x', { env: { HF_HOME: join(root, 'home'), HF_ENDPOINT: endpoint } }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(HubError);
    expect((e as Error).message).toBe(`hf:org/x: the hub's answer for org/x@main is not JSON (Unexpected token '<', "<!DOCTYPE "...)`);
  });

  it("a short answer's quote is kept whole, its line breaks escaped", async () => {
    page = '<p>\nno\n</p>';
    const e = await downloadSnapshot('hf:org/y', { env: { HF_HOME: join(root, 'home-short'), HF_ENDPOINT: endpoint } }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect((e as Error).message).toBe(`hf:org/y: the hub's answer for org/y@main is not JSON (Unexpected token '<', "<p>\\nno\\n</p>")`);
  });
});

// `interactd pull` against a loopback stand-in for the Hugging Face hub
// (lib/hub-server.mjs: the hub's tree API, resolve URLs answering 302 to a
// CDN URL with x-linked-etag / x-linked-size, Range answered 206): the
// quantization chosen by name (any case), the bytes checked against the
// listed SHA-256, HF_TOKEN sent as a bearer token, progress lines when the
// output is no terminal, a download cut midway resumed with Range by the
// next pull, a corrupt download refused and removed, the projector fetched
// beside the model (its SHA-256 from x-linked-etag), the environment's
// proxy used for the hub and the CDN, `interactd models` listing the
// folder, and `serve --model NAME` serving a pulled model.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { BIN, DEMO_MODEL, startServer, stopAll, T } from './lib/server.mjs';
import { startHub } from './lib/hub-server.mjs';

const TOKEN = 'hf_e2e_token_123';
const demo = fs.readFileSync(DEMO_MODEL);
const rand = (n, seed) => crypto.createHash('sha256').update(seed).digest().toString('hex').repeat(Math.ceil(n / 64)).slice(0, n);
const q8 = Buffer.from(rand(50_000, 'q8'));
let hub;
let dir;

function run(args, env = {}) {
  return new Promise((resolve) => {
    // the loopback hub directly, whatever proxy the machine's environment names
    const direct = { no_proxy: '127.0.0.1,localhost', NO_PROXY: '127.0.0.1,localhost' };
    const p = spawn(BIN, args, { env: { ...process.env, ...direct, HF_ENDPOINT: hub.url, HF_TOKEN: TOKEN, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => resolve({ code, out, err }));
  });
}
const pull = (ref, env) => run(['pull', '--models-dir', dir, ref], env);

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'interactd-models-'));
  hub = await startHub({
    'test-org/tiny-GGUF': { files: {
      'README.md': { bytes: Buffer.from('# tiny\n'), lfs: false },
      'tiny-Q8_0.gguf': { bytes: q8 },
      'tiny-Q4_K_M.gguf': { bytes: demo },
    } },
    'test-org/cut-GGUF': { files: { 'cut-Q4_K_M.gguf': { bytes: demo, cutAt: 300_000 } } },
    'test-org/junk-GGUF': { files: { 'junk-Q4_K_M.gguf': { bytes: q8 } } },
    'test-org/bad-GGUF': { files: { 'bad-Q4_K_M.gguf': { bytes: q8, corrupt: true } } },
    'test-org/vision-GGUF': { files: {
      'vision-Q4_K_M.gguf': { bytes: Buffer.from(rand(40_000, 'model')) },
      'mmproj-vision-F16.gguf': { bytes: Buffer.from(rand(20_000, 'proj')), lfs: false },
    } },
  }, { token: TOKEN });
});
after(async () => {
  await stopAll();
  await hub?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('interactd pull', () => {
  it('downloads the quantization named (any case), checked, with progress lines and the bearer token', T, async () => {
    const r = await pull('test-org/tiny-GGUF:q4_k_m');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(fs.readFileSync(path.join(dir, 'tiny-Q4_K_M.gguf')), demo);
    assert.ok(!fs.existsSync(path.join(dir, 'tiny-Q4_K_M.gguf.part')));
    assert.ok(!fs.existsSync(path.join(dir, 'tiny-Q8_0.gguf')), 'only the quantization asked for');
    assert.match(r.out, /SHA-256 checked/);
    assert.match(r.out, /interactd serve --model tiny-Q4_K_M/);
    // not a terminal: plain lines, the last at 100 %
    assert.match(r.err, /tiny-Q4_K_M\.gguf: \d+ \/ 716416 bytes \(\d+%\), .*\/s, ETA /);
    assert.match(r.err, /tiny-Q4_K_M\.gguf: 716416 \/ 716416 bytes \(100%\)/);
    assert.doesNotMatch(r.err, /\r/);
    const tree = hub.log.find((l) => l.path === '/api/models/test-org/tiny-GGUF/tree/main');
    assert.equal(tree?.auth, `Bearer ${TOKEN}`);
    assert.ok(hub.log.some((l) => l.method === 'HEAD' && l.path === '/test-org/tiny-GGUF/resolve/main/tiny-Q4_K_M.gguf'));
    const cdn = hub.log.filter((l) => l.method === 'GET' && l.path.startsWith('/cdn/'));
    assert.ok(cdn.length > 0, 'the redirect to the CDN followed');
    assert.ok(cdn.every((l) => l.auth === undefined), 'the token is not sent to the CDN\'s host');
  });

  it('without a quantization takes Q4_K_M; a second pull finds the file there', T, async () => {
    const r = await pull('test-org/tiny-GGUF');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /already in .*tiny-Q4_K_M\.gguf \(SHA-256 checked\)/);
    const q = await pull('test-org/tiny-GGUF:Q8_0');
    assert.equal(q.code, 0, q.err);
    assert.deepEqual(fs.readFileSync(path.join(dir, 'tiny-Q8_0.gguf')), q8);
  });

  it('a download cut midway stays as .part and the next pull resumes it with Range', T, async () => {
    const a = await pull('test-org/cut-GGUF:Q4_K_M');
    assert.notEqual(a.code, 0);
    assert.match(a.err, /interrupted after 300000 bytes.*run the same pull again to resume/);
    assert.equal(fs.statSync(path.join(dir, 'cut-Q4_K_M.gguf.part')).size, 300_000);
    assert.ok(!fs.existsSync(path.join(dir, 'cut-Q4_K_M.gguf')));
    const b = await pull('test-org/cut-GGUF:Q4_K_M');
    assert.equal(b.code, 0, b.err);
    assert.match(b.out, /resumed/);
    const cdn = hub.log.filter((l) => l.path.startsWith('/cdn/') && l.range);
    assert.ok(cdn.some((l) => l.range === 'bytes=300000-'), JSON.stringify(cdn));
    assert.deepEqual(fs.readFileSync(path.join(dir, 'cut-Q4_K_M.gguf')), demo);
    assert.ok(!fs.existsSync(path.join(dir, 'cut-Q4_K_M.gguf.part')));
  });

  it('a download whose SHA-256 is not the listed one is refused and removed', T, async () => {
    const r = await pull('test-org/bad-GGUF:Q4_K_M');
    assert.notEqual(r.code, 0);
    assert.match(r.err, /SHA-256 is [0-9a-f]{64}, not the [0-9a-f]{64} the hub gives: refused and removed/);
    assert.ok(!fs.existsSync(path.join(dir, 'bad-Q4_K_M.gguf')));
    assert.ok(!fs.existsSync(path.join(dir, 'bad-Q4_K_M.gguf.part')));
  });

  it('a stale .part with wrong bytes is resumed, refused by its hash and removed; a longer one is started over', T, async () => {
    const part = path.join(dir, 'junk-Q4_K_M.gguf.part');
    fs.writeFileSync(part, Buffer.alloc(1000, 0x41));
    const a = await pull('test-org/junk-GGUF:Q4_K_M');
    assert.notEqual(a.code, 0);
    assert.match(a.err, /SHA-256 is .* refused and removed/);
    assert.ok(!fs.existsSync(part));
    fs.writeFileSync(part, Buffer.alloc(q8.length + 10, 0x41));
    const b = await pull('test-org/junk-GGUF:Q4_K_M');
    assert.equal(b.code, 0, b.err);
    assert.doesNotMatch(b.out, /resumed/);
    assert.deepEqual(fs.readFileSync(path.join(dir, 'junk-Q4_K_M.gguf')), q8);
  });

  it('fetches the projector beside the model; interactd models lists both', T, async () => {
    const r = await pull('test-org/vision-GGUF:Q4_K_M');
    assert.equal(r.code, 0, r.err);
    assert.ok(fs.existsSync(path.join(dir, 'vision-Q4_K_M.gguf')));
    assert.equal(fs.readFileSync(path.join(dir, 'mmproj-vision-Q4_K_M.gguf'), 'utf8'), rand(20_000, 'proj'));
    assert.match(r.out, /mmproj-vision-F16\.gguf: saved .*mmproj-vision-Q4_K_M\.gguf .*SHA-256 checked/);
    const m = await run(['models', '--models-dir', dir]);
    assert.equal(m.code, 0, m.err);
    assert.match(m.out, /vision-Q4_K_M\s+39\.1 KiB\s+Q4_K_M\s+mmproj-vision-Q4_K_M\.gguf/);
    assert.match(m.out, /tiny-Q8_0\s+48\.8 KiB\s+Q8_0\s+-/);
    assert.doesNotMatch(m.out, /\.part|^\s+mmproj-/m);
  });

  it('refuses clearly: no such quantization, no such repository, no token, a malformed reference', T, async () => {
    const q = await pull('test-org/tiny-GGUF:IQ2_XS');
    assert.equal(q.code, 1);
    assert.match(q.err, /no GGUF file of the repository matches that quantization; its GGUF files: .*tiny-Q4_K_M\.gguf/);
    const n = await pull('test-org/missing-GGUF');
    assert.equal(n.code, 1);
    assert.match(n.err, /answered 404: no such repository/);
    const t = await pull('test-org/tiny-GGUF', { HF_TOKEN: '' });
    assert.equal(t.code, 1);
    assert.match(t.err, /answered 401: .*set HF_TOKEN/);
    const b = await pull('not-a-repo');
    assert.equal(b.code, 2);
    assert.match(b.err, /expected OWNER\/NAME\[:QUANT\]/);
  });

  it('goes through the proxy the environment names (http_proxy), the CDN too', T, async () => {
    const seen = [];
    const proxy = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const u = new URL(req.url); // a proxy gets the absolute URL
      const up = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: req.method, headers: req.headers },
        (r) => { res.writeHead(r.statusCode, r.headers); r.pipe(res); });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const env = { http_proxy: `http://127.0.0.1:${proxy.address().port}`, no_proxy: '', NO_PROXY: '' };
      const r = await run(['pull', '--models-dir', path.join(dir, 'via-proxy'), 'test-org/tiny-GGUF:Q8_0'], env);
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(fs.readFileSync(path.join(dir, 'via-proxy', 'tiny-Q8_0.gguf')), q8);
      assert.ok(seen.some((l) => l.startsWith(`GET ${hub.url}/api/models/test-org/tiny-GGUF/tree/main`)), seen.join('\n'));
      assert.ok(seen.some((l) => l.startsWith(`HEAD ${hub.url}/test-org/tiny-GGUF/resolve/main/tiny-Q8_0.gguf`)), seen.join('\n'));
      assert.ok(seen.some((l) => /^GET http:\/\/localhost:\d+\/cdn\//.test(l)), seen.join('\n'));
    } finally {
      await new Promise((r) => proxy.close(r));
    }
  });

  it('serve --model NAME serves a pulled model by its name or a unique prefix', T, async () => {
    const srv = await startServer({ args: ['--models-dir', dir, '--model', 'tiny-Q4', '--model', 'tiny2=tiny-Q4_K_M'] });
    const r = await srv.raw('POST', '/v1beta/interactions', { body: { model: 'tiny-Q4', input: 'hi', generation_config: { max_output_tokens: 3, temperature: 0 } } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.model, 'tiny-Q4');
    assert.ok(['completed', 'incomplete'].includes(r.json.status), r.text); // 3 tokens of noise
    const r2 = await srv.raw('POST', '/v1beta/interactions', { body: { model: 'tiny2', input: 'hi', generation_config: { max_output_tokens: 3 } } });
    assert.equal(r2.status, 200, r2.text);
    const amb = await run(['serve', '--models-dir', dir, '--model', 'tiny', '--port', '0']);
    assert.equal(amb.code, 2);
    assert.match(amb.err, /--model: 'tiny' matches several models in .*: tiny-Q4_K_M, tiny-Q8_0/);
    const none = await run(['serve', '--models-dir', dir, '--model', 'llama', '--port', '0']);
    assert.equal(none.code, 2);
    assert.match(none.err, /no model 'llama' in .*interactd pull/);
  });
});

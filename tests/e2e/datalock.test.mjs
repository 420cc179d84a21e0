// One server per data folder, and the port before anything slow. A second
// `serve` on a live server's --data folder exits at once, naming the folder
// and the holder's PID, without touching the store (it used to run crash
// recovery on it, failing the first server's running interactions); the
// first server's background run still finishes with all its output. A taken
// port is reported in well under a second, before any model is loaded.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, startServer, stopAll, freePort, pollUntil, collect } from './lib/server.mjs';

after(stopAll);

/** Runs `interactd serve ARGS` expecting it to exit; {code, stderr, ms}. */
function runToExit(args, timeoutMs = 20_000) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const p = spawn(BIN, ['serve', '--threads', '1', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`still running after ${timeoutMs} ms:\n${stderr}`)); }, timeoutMs);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stderr, ms: Date.now() - t0 }); });
  });
}

// A schema whose grammar only completes after a long answer: the run takes a
// while, and ends on its own (status completed), not on a token limit.
const LONG_SCHEMA = {
  type: 'array', minItems: 200, maxItems: 200,
  items: { type: 'string', pattern: '^[a-z]{6}$' },
};

describe('one server per data folder', () => {
  it('a second server on a live data folder exits at once; the first run completes whole', { timeout: 120_000 }, async () => {
    const s1 = await startServer();
    const ai = s1.client();
    const bg = await ai.interactions.create({
      model: 'demo', input: 'Write a long list.', background: true,
      response_format: LONG_SCHEMA, generation_config: { temperature: 0, max_output_tokens: 4000 },
    });
    assert.equal(bg.status, 'in_progress');
    // The run is generating when the second server starts.
    const s = await ai.interactions.get(bg.id, { stream: true });
    for await (const ev of s) if (ev.event_type === 'content.delta') break;

    const other = await freePort();
    const r = await runToExit(['--port', String(other), '--data', s1.dataDir]);
    assert.notEqual(r.code, 0, r.stderr);
    assert.ok(r.stderr.includes(s1.dataDir), `names the folder: ${r.stderr}`);
    assert.ok(r.stderr.includes(`PID ${s1.proc.pid}`), `names the holder's PID ${s1.proc.pid}: ${r.stderr}`);
    assert.ok(!/loading model|recover/i.test(r.stderr), `touched nothing before refusing: ${r.stderr}`);
    assert.ok(r.ms < 5000, `refused at once (${r.ms} ms)`);
    // The same folder on the same port: still the folder's refusal, first.
    const r2 = await runToExit(['--port', String(s1.port), '--data', s1.dataDir]);
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /in use by another interactd/);
    const mid = await ai.interactions.get(bg.id);
    assert.equal(mid.status, 'in_progress', 'the refusals came while the run was generating');

    const done = await pollUntil(() => ai.interactions.get(bg.id), (g) => g.status !== 'in_progress',
      { timeoutMs: 90_000, what: 'the background run to end' });
    assert.equal(done.status, 'completed', JSON.stringify(done.error || done.status));
    const items = JSON.parse(done.outputs.at(-1).text);
    assert.equal(items.length, 200, 'the whole answer is there');
    // Its event log is whole too: the replay adds up to the stored text.
    const ev = await collect(await ai.interactions.get(bg.id, { stream: true }));
    const text = ev.filter((e) => e.event_type === 'content.delta').map((e) => e.delta.text || '').join('');
    assert.equal(text, done.outputs.at(-1).text);
    assert.equal(ev.at(-1).event_type, 'interaction.complete');
    assert.ok(s1.stderr().indexOf('UNIQUE constraint') < 0, s1.stderr());
    await s1.stop();
  });

  it('the lock dies with the process: after kill -9 the folder serves again', { timeout: 60_000 }, async () => {
    const s1 = await startServer();
    const it0 = await s1.client().interactions.create({ model: 'demo', input: 'hi', generation_config: { max_output_tokens: 2 } });
    await s1.kill9();
    assert.ok(fs.existsSync(path.join(s1.dataDir, 'LOCK')), 'the LOCK file stays, stale');
    const s2 = await s1.restart();
    const got = await s2.client().interactions.get(it0.id);
    assert.equal(got.id, it0.id);
    await s2.stop();
  });

  it('a taken port is reported in under a second, before any model loads', { timeout: 30_000 }, async () => {
    const s1 = await startServer();
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'interactd-e2e-'));
    const r = await runToExit(['--port', String(s1.port), '--data', data]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${s1.port}: Address already in use`));
    assert.match(r.stderr, /--port/);
    assert.ok(!/loading model/.test(r.stderr), `no model was loaded: ${r.stderr}`);
    assert.ok(r.ms < 1000, `reported in ${r.ms} ms`);
    fs.rmSync(data, { recursive: true, force: true });
    await s1.stop();
  });
});

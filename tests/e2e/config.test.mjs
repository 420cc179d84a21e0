// `interactd serve --config FILE` and `--print-config` through the binary:
// a file's settings under the environment and the flags (the port it
// listens on, as printed and as served), --print-config's sources and exit
// 0, a bad key or line exiting 2 naming the file and line, and a missing
// file exiting 2.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { BIN, stopAll, freePort, T } from './lib/server.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'interactd-config-'));
after(async () => { await stopAll(); fs.rmSync(tmp, { recursive: true, force: true }); });

function run(args, env = {}) {
  const e = { ...process.env, ...env };
  for (const k of Object.keys(e)) if (k.startsWith('INTERACTD_') && !(k in env)) delete e[k];
  return new Promise((resolve) => {
    const p = spawn(BIN, args, { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('--config and --print-config', () => {
  it('prints each value with its source: flag > env > file > default', T, async () => {
    const f = path.join(tmp, 'a.toml');
    fs.writeFileSync(f, '[serve]\nport = 7001\nmax_tokens = 77\nINTERACTD_PARALLEL=3\nhost = "127.0.0.1"\n');
    const r = await run(['serve', '--config', f, '--parallel', '2', '--print-config'], { INTERACTD_MAX_TOKENS: '88' });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^port = "7001"  # file ${f}:2$`, 'm'));
    assert.match(r.out, /^max-tokens = "88"  # env INTERACTD_MAX_TOKENS$/m);
    assert.match(r.out, /^parallel = "2"  # flag --parallel$/m);
    assert.match(r.out, /^# ctx-size: default 0$/m);
    assert.doesNotMatch(r.err, /listening/);
  });

  it('a server started with --config listens on the file\'s port and serves', T, async () => {
    const port = await freePort();
    const f = path.join(tmp, 'b.conf');
    fs.writeFileSync(f, `# KEY=VALUE, as an EnvironmentFile\nINTERACTD_PORT=${port}\nINTERACTD_DATA=${tmp}/data\nthreads = 1\n`);
    const p = spawn(BIN, ['serve', '--config', f], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const up = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 50_000);
      p.stderr.on('data', (d) => {
        err += d;
        if (/interactd listening on/.test(err)) { clearTimeout(timer); resolve(true); }
      });
      p.on('close', () => resolve(false));
    });
    try {
      assert.ok(up, err);
      assert.match(err, new RegExp(`interactd listening on http://127\\.0\\.0\\.1:${port}`));
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(r.status, 200);
      assert.ok(fs.existsSync(path.join(tmp, 'data', 'interactd.db')));
    } finally {
      p.kill('SIGTERM');
    }
  });

  it('a bad key or line exits 2 naming the file and line; a missing file too', T, async () => {
    const f = path.join(tmp, 'bad.toml');
    fs.writeFileSync(f, 'port = 8080\nprot = 8081\n');
    const r = await run(['serve', '--config', f]);
    assert.equal(r.code, 2);
    assert.match(r.err, new RegExp(`--config ${f}: line 2: unknown setting 'prot'`));
    fs.writeFileSync(f, 'port 8080\n');
    const l = await run(['serve', '--print-config'], { INTERACTD_CONFIG: f });
    assert.equal(l.code, 2);
    assert.match(l.err, /line 1: expected KEY = VALUE/);
    const m = await run(['serve', '--config', path.join(tmp, 'missing.toml')]);
    assert.equal(m.code, 2);
    assert.match(m.err, /cannot read it: No such file/);
  });
});

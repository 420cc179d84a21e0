// Several interactd instances on one PostgreSQL database (issue 14), through
// the official SDK against live servers and a real PostgreSQL started for
// this file by tests/pg.sh (or the one E2E_PG_DIR names):
//  - a background run on A, A killed with -9: B takes it over once its lease
//    has passed (failed, saying so, with the outputs A had stored), and a
//    stream of it followed from B ends as a live failure does; a client
//    whose stream from A was cut by the kill resumes it on B by
//    last_event_id and sees the same end;
//  - A stalled (SIGSTOP) past its lease mid-stream, then resumed: B took the
//    run over; A stops it, its client gets the takeover's failure, and no
//    event of A's lands after the takeover's end;
//  - a stream begun on A followed live from B, whole and by last_event_id:
//    the same events, ids and text as A sent;
//  - a cancel and a delete sent to B stop a run live on A (A's own GET then
//    agrees); a cancel sent to B of a run whose A died answers cancelled;
//  - 1,000 background runs spread over both, A killed midway: every created
//    id is stored and ended, none lost, none left in_progress, and none
//    that B created (all those created after the kill) failed by a takeover;
//  - an unreadable, unwritable DATA/instance-id: refused at start;
//  - a PostgreSQL restart under two instances: neither restarts, a run live
//    through it completes, both serve on;
//  - nginx (Debian's) in front of both with docs/nginx.conf, the SDK pointed
//    at it through a kill -9 of one: requests keep succeeding, and a run the
//    killed one owned is taken over.
// Skipped, saying why, when PostgreSQL (initdb) or nginx is not installed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, stopAll, REPO_ROOT, textOf, collect, deltaText, pollUntil, assertEnded,
  sdkErrors, pgStoreFor, psql, makeClient, freePort, BIN, waitStderr } from './lib/server.mjs';

const PG_SH = path.join(REPO_ROOT, 'tests/pg.sh');
// --lease-seconds of the instances here. Not shorter: the suite runs two
// e2e files at a time, and again under ASan, and a lease that a busy
// machine lets pass between renewals is a false takeover (a live run
// failed); the takeover tests wait for it, none times it.
const LEASE = 8;
const SHORT = { temperature: 0, max_output_tokens: 4 };
// A run the model cannot end early (bench/conn/hold.mjs's blocker): its
// output held to 1,000 strings of 500 characters, cut at `max_output_tokens`
// (3,000 here: seconds on this machine), so it is surely live when a test
// cancels it or kills its instance.
const BLOCK = { type: 'array', minItems: 1000, items: { type: 'string', minLength: 500 } };
const LONG = { temperature: 0, max_output_tokens: 3000 };
const long = (params) => ({ response_format: BLOCK, generation_config: LONG, ...params });
const TAKEN_OVER = /another instance took it over after its lease expired/;
let pgDir = process.env.E2E_PG_DIR || null;
let ownPg = false;
let skip = false;

before(() => {
  if (!pgDir) {
    const r = spawnSync(PG_SH, ['start'], { encoding: 'utf8' });
    if (r.status === 3) { skip = 'PostgreSQL is not installed (initdb not found): skipped'; return; }
    assert.equal(r.status, 0, `tests/pg.sh start failed: ${r.stderr}`);
    pgDir = r.stdout.trim();
    ownPg = true;
  }
}, { timeout: 120_000 });

after(async () => {
  await stopAll();
  if (ownPg) execFileSync(PG_SH, ['stop', pgDir]);
});

const conninfo = () => fs.readFileSync(path.join(pgDir, 'conninfo'), 'utf8').trim();

/** Two instances on a fresh database of their own. */
async function pair(name, lease = LEASE) {
  const store = pgStoreFor(conninfo(), `/x/multi-${name}-${process.pid}`, true);
  const args = ['--lease-seconds', String(lease)];
  const a = await startServer({ store, args });
  const b = await startServer({ store, args });
  return { a, b, store };
}

function create(ai, params) {
  return ai.interactions.create({ model: 'demo', generation_config: SHORT, ...params });
}

/** A background run on ai long enough to be live for the next steps. */
async function longRun(ai) {
  return create(ai, long({ input: 'a long run', background: true }));
}

describe('several instances on one PostgreSQL', () => {
  it('A killed with -9 mid-run: B takes the run over after its lease (failed, saying so); a stream of it from B ends as a failure', { timeout: 120_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const { a, b } = await pair('takeover');
    const aa = a.client();
    const bb = b.client();
    const run = await longRun(aa);
    // some of its output is stored before the kill (flushed every event here)
    await pollUntil(() => bb.interactions.get(run.id, { stream: true }).then(async (s) => {
      const evs = [];
      for await (const e of s) { evs.push(e); if (e.event_type === 'content.delta') break; }
      return evs;
    }), (evs) => evs.some((e) => e.event_type === 'content.delta'), { what: 'a first delta stored by A' });
    const follow = bb.interactions.get(run.id, { stream: true }).then(collect);
    await a.kill9();
    const ended = await pollUntil(() => bb.interactions.get(run.id), (x) => x.status !== 'in_progress',
      { what: 'B taking the run over', timeoutMs: (LEASE + 30) * 1000 });
    assert.equal(ended.status, 'failed');
    assert.match(ended.error?.message || JSON.stringify(ended), TAKEN_OVER);
    assert.ok(textOf(ended).length > 0, 'the outputs A stored are kept');
    const evs = await follow;
    assert.equal(evs[0].event_type, 'interaction.start');
    assert.equal(evs[evs.length - 1].event_type, 'interaction.complete');
    assert.equal(evs[evs.length - 1].interaction.status, 'failed');
    assert.ok(evs.some((e) => e.event_type === 'error' && TAKEN_OVER.test(e.error?.message || '')));
    await waitStderr(b, /took over 1 interaction/);
  });

  it('A killed with -9 mid-stream: the client resumes on B by last_event_id and the stream ends with the takeover\'s failure', { timeout: 120_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const { a, b } = await pair('midstream');
    const aa = a.client();
    const bb = b.client();
    const stream = await create(aa, long({ input: 'a long stream', stream: true }));
    const seen = [];
    await assert.rejects(async () => {
      for await (const e of stream) {
        seen.push(e);
        if (seen.filter((x) => x.event_type === 'content.delta').length === 3) await a.kill9();
      }
    }, 'the stream from A is cut by the kill');
    const tCut = Date.now();
    const id = seen[0].interaction.id;
    const rest = await collect(await bb.interactions.get(id, { stream: true, last_event_id: seen[seen.length - 1].event_id }));
    t.diagnostic(`resumed stream ended ${Date.now() - tCut} ms after the cut`);
    const last = rest[rest.length - 1];
    assert.equal(last.event_type, 'interaction.complete');
    assert.equal(last.interaction.status, 'failed');
    assert.ok(rest.some((e) => e.event_type === 'error' && TAKEN_OVER.test(e.error?.message || '')));
    const ids = [...seen, ...rest].map((e) => e.event_id);
    assert.equal(new Set(ids).size, ids.length, 'no event id twice');
  });

  it('A stalled past its lease (SIGSTOP) while streaming, then resumed: B took the run over, and A stops it and tells its client the takeover\'s failure, never its own end', { timeout: 120_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const { a, b } = await pair('stalled');
    const aa = a.client();
    const bb = b.client();
    const stream = await create(aa, long({ input: 'a stalled stream', stream: true }));
    const seen = [];
    const it = stream[Symbol.asyncIterator]();
    while (!seen.some((e) => e.event_type === 'content.delta')) seen.push((await it.next()).value);
    const id = seen[0].interaction.id;
    a.proc.kill('SIGSTOP'); // a partition or a stall: A is alive but renews nothing
    try {
      const ended = await pollUntil(() => bb.interactions.get(id), (x) => x.status !== 'in_progress',
        { what: 'B taking the stalled run over', timeoutMs: (LEASE + 30) * 1000 });
      assert.equal(ended.status, 'failed');
      assert.match(ended.error?.message || '', TAKEN_OVER);
    } finally {
      a.proc.kill('SIGCONT');
    }
    for (let r = await it.next(); !r.done; r = await it.next()) seen.push(r.value);
    const last = seen[seen.length - 1];
    assert.equal(last.event_type, 'interaction.complete');
    assert.equal(last.interaction.status, 'failed', 'A\'s client is told the stored end');
    assert.ok(seen.some((e) => e.event_type === 'error' && TAKEN_OVER.test(e.error?.message || '')));
    for (const ai of [aa, bb]) {
      const got = await ai.interactions.get(id);
      assert.equal(got.status, 'failed');
      assert.match(got.error?.message || '', TAKEN_OVER);
    }
    // no event of A's landed after the takeover's end
    const stored = await collect(await bb.interactions.get(id, { stream: true }));
    assert.equal(stored[stored.length - 1].event_type, 'interaction.complete');
    assert.equal(stored.filter((e) => e.event_type === 'interaction.complete').length, 1);
    await waitStderr(a, new RegExp(`${id} was (taken over|ended or deleted by another instance)`));
    assert.equal(a.exitInfo, null);
  });

  it('a stream begun on A is followed live from B, whole and from a last_event_id: the same events as A sent', { timeout: 120_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const { a, b } = await pair('follow');
    const aa = a.client();
    const bb = b.client();
    const stream = await create(aa, long({ input: 'followed', stream: true, generation_config: { temperature: 0, max_output_tokens: 300 } }));
    const onA = [];
    let onB = null;
    let fromMid = null;
    for await (const e of stream) {
      onA.push(e);
      if (e.event_type === 'interaction.start') {
        onB = bb.interactions.get(e.interaction.id, { stream: true }).then(collect);
      }
      if (onA.length === 20) {
        fromMid = bb.interactions.get(onA[0].interaction.id, { stream: true, last_event_id: e.event_id }).then(collect);
      }
    }
    assert.ok(fromMid, 'A sent at least 20 events');
    const whole = await onB;
    const rest = await fromMid;
    assert.equal(onA[onA.length - 1].event_type, 'interaction.complete');
    assert.deepEqual(whole.map((e) => e.event_id), onA.map((e) => e.event_id));
    assert.equal(deltaText(whole), deltaText(onA));
    assert.deepEqual(rest.map((e) => e.event_id), onA.slice(20).map((e) => e.event_id));
    assert.equal(whole[whole.length - 1].interaction.status, onA[onA.length - 1].interaction.status);
  });

  it('GET, cancel and delete sent to B reach a run live on A; a cancel of a run whose instance died answers cancelled', { timeout: 120_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const { a, b } = await pair('cancel');
    const aa = a.client();
    const bb = b.client();
    const E = sdkErrors(bb);
    const run = await longRun(aa);
    assert.equal((await bb.interactions.get(run.id)).status, 'in_progress');
    const stopped = await bb.interactions.cancel(run.id);
    assert.equal(stopped.status, 'cancelled');
    assert.equal((await aa.interactions.get(run.id)).status, 'cancelled');
    const replay = await collect(await bb.interactions.get(run.id, { stream: true }));
    assert.equal(replay[replay.length - 1].interaction.status, 'cancelled');
    await waitStderr(a, new RegExp(`cancelling ${run.id}, as another instance was asked to`));
    // delete from B: A's run is stopped first, so it does not write its row back
    const gone = await longRun(aa);
    await bb.interactions.delete(gone.id);
    await assert.rejects(aa.interactions.get(gone.id), (e) => e instanceof E.NotFoundError || e.status === 404);
    await assert.rejects(bb.interactions.get(gone.id), (e) => e instanceof E.NotFoundError || e.status === 404);
    // its instance dies: the cancel ends the row itself once the lease has passed
    const orphan = await longRun(aa);
    await a.kill9();
    const c = await bb.interactions.cancel(orphan.id);
    assert.equal(c.status, 'cancelled');
    assert.equal((await bb.interactions.get(orphan.id)).status, 'cancelled');
    const ev = await collect(await bb.interactions.get(orphan.id, { stream: true }));
    assert.equal(ev[ev.length - 1].event_type, 'interaction.complete');
    assert.equal(ev[ev.length - 1].interaction.status, 'cancelled');
  });

  it('1,000 background runs over two instances, one killed with -9 midway: none lost, none stuck', { timeout: 300_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const { a, b, store } = await pair('thousand');
    const clients = [a.client(), b.client()];
    const ids = new Map(); // id -> the instance that answered its create
    let aDead = false;
    let killing = false;
    let lostToKill = 0;
    const N = 1000;
    const one = async (i) => {
      const params = { input: `run ${i}`, background: true, generation_config: { temperature: 0, max_output_tokens: 1 } };
      const onA = i % 2 === 0 && !aDead;
      try {
        ids.set((await create(clients[onA ? 0 : 1], params)).id, onA ? 'A' : 'B');
      } catch (e) {
        // a create A took with it: its answer never came; sent again to B
        // (a row A had already written is then ended by the takeover). A
        // failure before the kill began is a failure (and would wait on
        // an A that never exits).
        if (!onA || !killing) throw e;
        await a.exited;
        lostToKill++;
        ids.set((await create(clients[1], params)).id, 'B');
      }
    };
    const PAR = 16;
    let killed = null;
    for (let i = 0; i < N; i += PAR) {
      // midway, A dies with creates to it in flight
      if (i >= N / 2 && !killed) {
        killing = true;
        killed = a.kill9().then(() => { aDead = true; });
      }
      const batch = Array.from({ length: Math.min(PAR, N - i) }, (_, k) => one(i + k));
      await Promise.all(batch);
    }
    await killed;
    assert.equal(ids.size, N);
    const q = (sql) => psql(store, sql);
    await pollUntil(async () => Number(q("SELECT count(*) FROM interactions WHERE status = 'in_progress'")),
      (n) => n === 0, { what: 'no run left in_progress', timeoutMs: 120_000, intervalMs: 500 });
    const rows = q('SELECT id, status, coalesce(error, \'\') FROM interactions').split('\n').map((l) => l.split('|'));
    const byId = new Map(rows.map(([id, st, er]) => [id, { st, er }]));
    for (const id of ids.keys()) assert.ok(byId.has(id), `created ${id} is stored`);
    const statuses = {};
    for (const [id, { st, er }] of byId) {
      statuses[st] = (statuses[st] || 0) + 1;
      assert.ok(['completed', 'incomplete', 'failed'].includes(st), `ended: ${st}`);
      if (st === 'failed') assert.match(er, TAKEN_OVER);
      // B never died: a takeover of a run it created (every run created
      // after the kill is B's) would be a false one, of a live run
      if (ids.get(id) === 'B') assert.ok(st !== 'failed', `${id}, created on B, ended ${st}: ${er}`);
    }
    t.diagnostic(`statuses: ${JSON.stringify(statuses)}; creates cut by the kill: ${lostToKill}`);
  });

  it('an instance whose DATA/instance-id can be neither read nor written refuses to start on PostgreSQL, saying so', { timeout: 60_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'interactd-noid-'));
    t.after(() => fs.rmSync(data, { recursive: true, force: true }));
    fs.mkdirSync(path.join(data, 'instance-id')); // neither a file to read nor one to write
    const store = pgStoreFor(conninfo(), `/x/multi-noid-${process.pid}`, true);
    const r = spawnSync(BIN, ['serve', '--data', data, '--store', store, '--port', '0'],
      { encoding: 'utf8', timeout: 50_000 });
    assert.notEqual(r.status, 0, `it started: ${r.stderr}`);
    assert.match(r.stderr, /instance-id/);
    assert.match(r.stderr, /refusing to serve the PostgreSQL store/);
  });

  it('a PostgreSQL restart under two instances: neither restarts, a run live through it completes, both serve on', { timeout: 120_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const { a, b } = await pair('restart', 30); // a lease that outlasts the restart
    const aa = a.client();
    const bb = b.client();
    const before = await create(aa, { input: 'stored before the restart' });
    // the database restarts under a stream's first delta: the writer waits
    // for it (up to 5 s) and the run's rows land whole
    const evs = [];
    for await (const e of await create(aa, long({ input: 'live through a restart', stream: true }))) {
      evs.push(e);
      if (evs.filter((x) => x.event_type === 'content.delta').length === 1) execFileSync(PG_SH, ['restart', pgDir]);
    }
    assert.equal(evs[evs.length - 1].event_type, 'interaction.complete');
    assert.deepEqual((await bb.interactions.get(before.id)).outputs, before.outputs);
    const done = await pollUntil(() => bb.interactions.get(evs[0].interaction.id), (x) => x.status !== 'in_progress',
      { what: 'the run live through the restart stored ended' });
    assertEnded(assert, done);
    assert.equal(textOf(done), deltaText(evs));
    assertEnded(assert, await create(bb, { input: 'made on B after the restart' }));
    assertEnded(assert, await create(aa, { input: 'made on A after the restart', previous_interaction_id: before.id }));
    assert.equal(a.exitInfo, null);
    assert.equal(b.exitInfo, null);
  });
});

describe('nginx in front of two instances (docs/nginx.conf)', () => {
  it('the SDK through nginx keeps working through a kill -9 of one instance; its run is taken over', { timeout: 120_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p));
    if (!NGINX) return t.skip('nginx is not installed (scripts/deps.sh installs nginx-light): skipped');
    const { a, b } = await pair('nginx');
    const { url, stop } = await startNginx(NGINX, a.port, b.port);
    t.after(stop); // also when the test fails or times out
    const ai = makeClient(url);
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await create(ai, { input: `through nginx ${i}` })).id);
    // a long run on A, asked of A directly so its owner is known
    const owned = await longRun(a.client());
    await a.kill9();
    for (let i = 0; i < 6; i++) {
      assertEnded(assert, await create(ai, { input: `after the kill ${i}` })); // a refused connection is retried on B
      for (const id of ids) assert.equal((await ai.interactions.get(id)).id, id);
    }
    const ev = await collect(await create(ai, { input: 'streamed after the kill', stream: true }));
    assert.equal(ev[ev.length - 1].event_type, 'interaction.complete');
    const ended = await pollUntil(() => ai.interactions.get(owned.id), (x) => x.status !== 'in_progress',
      { what: 'the killed instance\'s run taken over', timeoutMs: (LEASE + 30) * 1000 });
    assert.equal(ended.status, 'failed');
    assert.match(ended.error?.message || '', TAKEN_OVER);
  });
});

/** nginx with docs/nginx.conf (its two upstream ports and its listen port
 * replaced), in a temporary prefix, as an unprivileged user when root. */
async function startNginx(bin, portA, portB) {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'interactd-nginx-'));
  for (const d of ['logs', 'tmp']) fs.mkdirSync(path.join(prefix, d));
  const port = await freePort();
  const conf = fs.readFileSync(path.join(REPO_ROOT, 'docs/nginx.conf'), 'utf8')
    .replace('127.0.0.1:8081', `127.0.0.1:${portA}`).replace('127.0.0.1:8082', `127.0.0.1:${portB}`)
    .replace('listen 127.0.0.1:8080', `listen 127.0.0.1:${port}`);
  fs.writeFileSync(path.join(prefix, 'nginx.conf'), conf);
  const root = process.getuid() === 0;
  if (root) execFileSync('chown', ['-R', 'nobody:nogroup', prefix]);
  const cmd = root ? 'setpriv' : bin;
  // -e stderr: the error log from the start, so nginx never opens
  // /var/log/nginx (which an unprivileged one cannot)
  const args = [...(root ? ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', bin] : []),
    '-p', prefix + '/', '-e', 'stderr', '-c', path.join(prefix, 'nginx.conf'), '-g', 'daemon off;'];
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (proc.exitCode === null && proc.signalCode === null) {
      const closed = new Promise((r) => proc.on('close', r));
      proc.kill('SIGTERM');
      await closed;
    }
    fs.rmSync(prefix, { recursive: true, force: true });
  };
  try {
    await pollUntil(() => fetch(`${url}/healthz`).then((r) => r.status, () => 0), (s) => s > 0,
      { what: 'nginx answering', timeoutMs: 20_000 });
  } catch (e) {
    await stop(); // not left running when it never answered
    throw new Error(`${e.message}; nginx's stderr: ${err}`);
  }
  return { url, stop };
}


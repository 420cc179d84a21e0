// The PostgreSQL store through the SDK against live servers (issue 14):
// a PostgreSQL started for this file by tests/pg.sh (or the one E2E_PG_DIR
// names: the Makefile's e2e-pg target) in a temporary folder on its own port.
//  - A restart of PostgreSQL (pg_ctl restart) in the middle of a server's
//    life: every interaction committed before it reads back the same, and
//    the server (not restarted) serves new interactions, chains continued
//    across the restart and streams, on fresh connections.
//  - Two servers on one database: an interaction made on one is read,
//    continued (previous_interaction_id) and deleted on the other; a
//    background run on one is seen finished from the other; a finished
//    stream made on one is resumed on the other by last_event_id; a cancel
//    sent to one stops a run live on the other (pgmulti.test.mjs has the
//    rest: takeover, live follow, 1,000 runs, nginx).
//  - A --store that is neither sqlite nor PostgreSQL is refused at start,
//    naming the flag; an unreachable database fails the start clearly.
// Skipped, saying why, when PostgreSQL is not installed (no initdb).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, stopAll, T, REPO_ROOT, BIN, longPrompt, textOf, collect, deltaText, pollUntil, assertEnded, sdkErrors, pgStoreFor, waitStderr } from './lib/server.mjs';

const PG_SH = path.join(REPO_ROOT, 'tests/pg.sh');
const CFG = { temperature: 0, max_output_tokens: 8 };
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
const freshDb = (name) => pgStoreFor(conninfo(), `/x/${name}-${process.pid}`, true);

function create(ai, params) {
  return ai.interactions.create({ model: 'demo', generation_config: CFG, ...params });
}

describe('PostgreSQL store', () => {
  it('a PostgreSQL restart mid-life loses no committed interaction and the server keeps serving', { timeout: 120_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const srv = await startServer({ store: freshDb('restart') });
    const ai = srv.client();
    const made = [];
    for (const input of ['first before the restart', 'second before the restart']) made.push(await create(ai, { input }));
    const chainRoot = await create(ai, { input: 'a chain begins' });
    const streamed = await collect(await create(ai, { input: 'streamed before', stream: true }));
    const streamedId = streamed.find((e) => e.event_type === 'interaction.start').interaction.id;

    execFileSync(PG_SH, ['restart', pgDir]);

    // committed before: all there, unchanged (the first GET finds its pooled
    // connection cut and is retried on a new one)
    for (const c of made) {
      const g = await ai.interactions.get(c.id);
      assert.equal(g.id, c.id);
      assert.deepEqual(g.outputs, c.outputs);
      assert.equal(g.status, c.status);
    }
    const gs = await ai.interactions.get(streamedId);
    assert.equal(textOf(gs), deltaText(streamed));
    // serving on: a chain continued across the restart, a new stream
    const next = await create(ai, { input: 'the chain goes on', previous_interaction_id: chainRoot.id });
    assertEnded(assert, next);
    assert.equal(next.previous_interaction_id, chainRoot.id);
    const ev = await collect(await create(ai, { input: 'streamed after', stream: true }));
    assert.equal(ev[ev.length - 1].event_type, 'interaction.complete');
    const again = await ai.interactions.get(next.id);
    assert.deepEqual(again.outputs, next.outputs);
    await waitStderr(srv, /PostgreSQL connection was lost/);
    assert.equal(srv.exitInfo, null, 'the server never stopped');
  });

  it('two servers on one database: any of them serves any id (GET, continue, DELETE, a background run, resume a finished stream)', { timeout: 120_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const store = freshDb('two');
    const a = await startServer({ store });
    const b = await startServer({ store });
    const aa = a.client();
    const bb = b.client();
    const E = sdkErrors(bb);
    const c = await create(aa, { input: 'made on A' });
    const g = await bb.interactions.get(c.id);
    assert.deepEqual(g.outputs, c.outputs);
    const cont = await create(bb, { input: 'continued on B', previous_interaction_id: c.id });
    assertEnded(assert, cont);
    assert.equal(cont.previous_interaction_id, c.id);
    assert.deepEqual((await aa.interactions.get(cont.id)).outputs, cont.outputs);
    const bg = await create(aa, { input: 'a background run on A', background: true });
    const done = await pollUntil(() => bb.interactions.get(bg.id), (x) => x.status !== 'in_progress',
      { what: 'the background run seen ended from B' });
    assertEnded(assert, done);
    // a stream made on A, resumed on B from an event id A sent
    const evs = await collect(await create(aa, { input: 'streamed on A', stream: true }));
    const sid = evs.find((e) => e.event_type === 'interaction.start').interaction.id;
    const k = Math.floor(evs.length / 2);
    assert.ok(evs[k].event_id, 'events carry ids');
    const rest = await collect(await bb.interactions.get(sid, { stream: true, last_event_id: evs[k].event_id }));
    assert.deepEqual(rest.map((e) => e.event_id), evs.slice(k + 1).map((e) => e.event_id));
    assert.equal(rest[rest.length - 1].event_type, 'interaction.complete');
    // a run live on A: a cancel sent to B stops it (A cancels it, asked
    // through the database), and both then say cancelled (more in
    // pgmulti.test.mjs)
    const long = await create(aa, { input: await longPrompt(aa), background: true,
      generation_config: { temperature: 0, max_output_tokens: 2000 } });
    const stopped = await bb.interactions.cancel(long.id);
    assert.equal(stopped.status, 'cancelled');
    assert.equal((await aa.interactions.get(long.id)).status, 'cancelled');
    await bb.interactions.delete(c.id);
    await assert.rejects(aa.interactions.get(c.id), (e) => e instanceof E.NotFoundError || e.status === 404);
  });

  it('a --store that names no backend, or an unreachable database, fails the start clearly', T, async (t) => {
    if (skip) return t.skip(skip);
    const bad = spawnSync(BIN, ['serve', '--port', '0', '--data', fs.mkdtempSync('/tmp/ia-pg-bad-'), '--store', 'mysql://db/x'],
      { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--store: expected sqlite, a postgres:\/\/ or postgresql:\/\/ URL/);
    const down = spawnSync(BIN, ['serve', '--port', '0', '--data', fs.mkdtempSync('/tmp/ia-pg-down-'),
      '--store', 'postgresql://u:secret@127.0.0.1:1/none?connect_timeout=2'], { encoding: 'utf8', timeout: 60_000 });
    assert.notEqual(down.status, 0);
    assert.match(down.stderr, /cannot open the store postgresql:\/\/u:\*+@127\.0\.0\.1:1\/none.*cannot connect to PostgreSQL/);
    assert.doesNotMatch(down.stderr, /secret/);
  });
});

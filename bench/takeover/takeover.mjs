// Takeover time after a kill -9 (issue 14): two interactd instances on one
// PostgreSQL (tests/pg.sh's, started here), a background run on A killed
// with -9 once its first delta is stored; the time from the kill until B
// answers the run ended (GET polled every 20 ms) — B's lease scan (every
// second) ending it after the lease A last renewed (every second) passed.
// Expected: between lease - 1 s and lease + 1 s.
//   node bench/takeover/takeover.mjs [LEASE_SECONDS...]   (default: 3 10)
// Prints one line per lease: n, min / median / max in ms; and first, the
// time a cancel sent to B of a run live on A takes to answer.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, stopAll, REPO_ROOT, longPrompt, pgStoreFor } from '../../tests/e2e/lib/server.mjs';

const leases = process.argv.slice(2).map(Number);
if (!leases.length) leases.push(3, 10);
const N = Number(process.env.TAKEOVER_N || 5);
const PG_SH = path.join(REPO_ROOT, 'tests/pg.sh');
const r = spawnSync(PG_SH, ['start'], { encoding: 'utf8' });
if (r.status !== 0) { console.error(r.stderr); process.exit(1); }
const pgDir = r.stdout.trim();
const conninfo = fs.readFileSync(path.join(pgDir, 'conninfo'), 'utf8').trim();
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

/** A cancel sent to B of a run live on A: the time B takes to answer it
 * cancelled (the request's NOTIFY, A's local cancel, B's 100 ms poll). */
async function crossCancel(store, args, bb, prompt) {
  const a = await startServer({ store, args });
  const aa = a.client();
  const times = [];
  for (let i = 0; i < N; i++) {
    const run = await aa.interactions.create({ model: 'demo', input: prompt, background: true,
      generation_config: { temperature: 0, max_output_tokens: 2000 } });
    const t0 = performance.now();
    const c = await bb.interactions.cancel(run.id);
    if (c.status === 'cancelled') times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  console.log(`cancel sent to B of a run on A: n=${times.length}, min ${times[0].toFixed(0)} / median ` +
    `${times[Math.floor(times.length / 2)].toFixed(0)} / max ${times[times.length - 1].toFixed(0)} ms`);
  await a.stop();
}

try {
  for (const lease of leases) {
    const store = pgStoreFor(conninfo, `/x/bench-takeover-${lease}-${process.pid}`, true);
    const args = ['--lease-seconds', String(lease)];
    const b = await startServer({ store, args });
    const bb = b.client();
    const prompt = await longPrompt(bb);
    if (lease === leases[0]) await crossCancel(store, args, bb, prompt);
    const times = [];
    for (let i = 0; i < N; i++) {
      const a = await startServer({ store, args });
      const aa = a.client();
      const run = await aa.interactions.create({ model: 'demo', input: prompt, background: true,
        generation_config: { temperature: 0, max_output_tokens: 2000 } });
      const s = await bb.interactions.get(run.id, { stream: true });
      for await (const e of s) if (e.event_type === 'content.delta') break;
      const t0 = performance.now();
      await a.kill9();
      let st;
      do {
        st = (await bb.interactions.get(run.id)).status;
        if (st === 'in_progress') await sleep(20);
      } while (st === 'in_progress');
      const ms = performance.now() - t0;
      if (st !== 'failed') { console.error(`run ${i}: ended ${st} before the kill took effect; not counted`); continue; }
      times.push(ms);
    }
    times.sort((x, y) => x - y);
    const med = times[Math.floor(times.length / 2)];
    console.log(`lease ${lease} s: n=${times.length}, takeover after kill min ${times[0].toFixed(0)} / median ${med.toFixed(0)} / max ${times[times.length - 1].toFixed(0)} ms`);
    await stopAll();
  }
} finally {
  await stopAll();
  execFileSync(PG_SH, ['stop', pgDir]);
}

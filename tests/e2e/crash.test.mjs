// Crash safety: kill -9 the server while background interactions run,
// restart it on the same data dir. Every stored interaction is still there;
// the completed ones are intact (outputs, usage, replayable event log); each
// interrupted one has a terminal status (failed with an error message, or
// completed if the server resumes it) and is never left in_progress.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAll, textOf, collect, deltaText, pollUntil, sleep, longPrompt, assertEnded } from './lib/server.mjs';

after(stopAll);

const LONG = 2000;

function errorMessage(it_) {
  const e = it_.error;
  if (!e) return '';
  return typeof e === 'string' ? e : (e.message || '');
}

describe('crash and restart', () => {
  it('kill -9 during background runs: everything stored survives, nothing stays in_progress', { timeout: 120_000 }, async () => {
    const s1 = await startServer();
    const ai1 = s1.client();
    const cfg = { temperature: 0, max_output_tokens: 12 };
    const longInput = await longPrompt(ai1);

    // Finished before the crash: a plain one, a streamed one, a chained one.
    const done1 = await ai1.interactions.create({ model: 'demo', input: 'Finished before the crash.', generation_config: cfg });
    const streamed = await collect(await ai1.interactions.create({
      model: 'demo', input: 'Streamed before the crash.', stream: true, generation_config: cfg,
    }));
    const streamedId = streamed[0].interaction.id;
    const done2 = await ai1.interactions.create({
      model: 'demo', input: 'Chained before the crash.', previous_interaction_id: done1.id, generation_config: cfg,
    });

    // Running (or queued) at the crash.
    const running = [];
    for (let i = 0; i < 4; i++) {
      running.push(await ai1.interactions.create({
        model: 'demo', input: longInput, background: true,
        generation_config: { temperature: 0, max_output_tokens: LONG },
      }));
    }
    for (const r of running) assert.equal(r.status, 'in_progress');
    // Make sure the first run is really generating before the kill.
    const s = await ai1.interactions.get(running[0].id, { stream: true });
    for await (const ev of s) if (ev.event_type === 'content.delta') break;
    const before = await Promise.all(running.map((r) => ai1.interactions.get(r.id)));
    const wereRunning = before.filter((g) => g.status === 'in_progress').length;
    assert.ok(wereRunning >= 1, `at least one run still in progress at the kill (${before.map((g) => g.status)})`);

    const info = await s1.kill9();
    assert.equal(info.signal, 'SIGKILL');

    const s2 = await s1.restart();
    const ai2 = s2.client();

    // Completed ones intact.
    for (const d of [done1, done2]) {
      const g = await ai2.interactions.get(d.id);
      assertEnded(assert, g);
      assert.deepEqual(g.outputs, d.outputs);
      assert.deepEqual(g.usage, d.usage);
      assert.equal(g.created, d.created);
    }
    const g2 = await ai2.interactions.get(done2.id);
    assert.equal(g2.previous_interaction_id, done1.id);
    const gs = await ai2.interactions.get(streamedId);
    assertEnded(assert, gs);
    assert.equal(textOf(gs), deltaText(streamed));
    const replay = await collect(await ai2.interactions.get(streamedId, { stream: true }));
    assert.deepEqual(replay.map((e) => e.event_id), streamed.map((e) => e.event_id), 'event log intact');
    assert.equal(deltaText(replay), deltaText(streamed));

    // Interrupted ones: all still there, each reaching a terminal status.
    for (const r of running) {
      const g = await pollUntil(() => ai2.interactions.get(r.id), (x) => x.status !== 'in_progress',
        { timeoutMs: 60_000, what: `interrupted ${r.id} to reach a terminal status` });
      assert.ok(['failed', 'completed', 'cancelled'].includes(g.status), `terminal status, got ${g.status}`);
      if (g.status === 'failed') {
        assert.ok(errorMessage(g).length > 0, `a failed interaction says why: ${JSON.stringify(g)}`);
      }
      if (g.status === 'completed') {
        assert.ok(textOf(g).length > 0);
        assert.ok(g.usage && g.usage.total_output_tokens > 0);
      }
      // Its event log is readable and ends.
      const ev = await collect(await ai2.interactions.get(r.id, { stream: true }));
      assert.ok(Array.isArray(ev));
    }

    // Stays that way (not picked up and left hanging), and the server works.
    await sleep(200);
    for (const r of running) {
      const g = await ai2.interactions.get(r.id);
      assert.notEqual(g.status, 'in_progress');
    }
    const cont = await ai2.interactions.create({
      model: 'demo', input: 'After the restart.', previous_interaction_id: done2.id, generation_config: cfg,
    });
    assertEnded(assert, cont);

    // A second crash right after a restart loses nothing either.
    await s2.kill9();
    const s3 = await s2.restart();
    const ai3 = s3.client();
    const g3 = await ai3.interactions.get(cont.id);
    assertEnded(assert, g3);
    assert.deepEqual(g3.outputs, cont.outputs);
    for (const r of running) {
      const g = await ai3.interactions.get(r.id);
      assert.notEqual(g.status, 'in_progress');
    }
    const info3 = await s3.stop();
    assert.equal(info3.code, 0, `clean exit after recovery: ${JSON.stringify(info3)}`);
  });

  it('raw JSON of a failed (interrupted) interaction has an error and no in_progress', { timeout: 90_000 }, async () => {
    const s1 = await startServer();
    const ai1 = s1.client();
    const bg = await ai1.interactions.create({
      model: 'demo', input: await longPrompt(ai1), background: true, generation_config: { temperature: 0, max_output_tokens: LONG },
    });
    const st = await ai1.interactions.get(bg.id, { stream: true });
    for await (const ev of st) if (ev.event_type === 'content.delta') break;
    const g = await ai1.interactions.get(bg.id);
    if (g.status !== 'in_progress') {
      assert.fail(`the ${LONG}-token run finished before the kill (${g.status}); the test cannot observe an interruption`);
    }
    await s1.kill9();
    const s2 = await s1.restart();
    const r = await pollUntil(() => s2.raw('GET', `/v1beta/interactions/${bg.id}`, { key: 'k' }),
      (x) => x.status === 200 && x.json.status !== 'in_progress', { timeoutMs: 60_000, what: 'terminal status' });
    assert.ok(['failed', 'completed'].includes(r.json.status), r.text);
    if (r.json.status === 'failed') assert.ok(errorMessage(r.json).length > 0, `error message present: ${r.text}`);
    assert.match(r.json.updated, /Z$/);
    await s2.stop();
  });
});

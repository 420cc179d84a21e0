// Resume mid-tool: a background streaming create whose url_context call
// (forced with tool_choice) fetches a loopback page that answers after
// ~2 s. The client reads until the call's block stops (the tool step runs
// now), drops the connection, and resumes with the stream GET and
// last_event_id while the tool still runs: it receives the rest — the
// result, the next model step, the completion — with event ids dense and
// strictly increasing from the given one, and the whole stored log is the
// first part followed by the resumed part, nothing repeated or missing.
// In both dialects: legacy (SDK 1.52.0, content.*) and steps (SDK 3.3.0,
// step.*). Background, so the dropped connection does not cancel the run.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, stopAll, T, collect } from './lib/server.mjs';
import { client3 } from './lib/steps.mjs';

const CFG = { temperature: 0, max_output_tokens: 300, tool_choice: 'any' };
const TOOLS = [{ type: 'url_context' }];
const PAGE = '<!doctype html><title>Late</title><p>The late page tells of azaleas.</p>';
const DELAY_MS = 2000;
let site, base, srv, hits = 0;

before(async () => {
  site = await new Promise((resolve) => {
    const s = http.createServer((req, res) => {
      hits++;
      setTimeout(() => { res.writeHead(200, { 'content-type': 'text/html' }); res.end(PAGE); }, DELAY_MS);
    });
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${site.address().port}`;
  srv = await startServer({ args: ['--allow-addresses', `127.0.0.1:${site.address().port}`, '--fetch-timeout', '10',
    '--max-tool-steps', '2'] });
}, { timeout: 60_000 });
after(async () => {
  await stopAll();
  site?.closeAllConnections?.();
  site?.close();
});

/** The seq an event id carries (evt_TAG_SEQ). */
const seqOf = (e) => Number(/_(\d+)$/.exec(e.event_id)[1]);

/** The dialect's names: a block's start and stop, what a start carries, the end. */
const DIALECTS = {
  legacy: { client: () => srv.client(), start: 'content.start', stop: 'content.stop', item: (e) => e.content,
    complete: 'interaction.complete' },
  steps: { client: () => client3(srv), start: 'step.start', stop: 'step.stop', item: (e) => e.step,
    complete: 'interaction.completed' },
};

for (const [name, d] of Object.entries(DIALECTS)) {
  describe(`resume mid-tool (${name})`, () => {
    it('drop the stream as the tool starts, resume with last_event_id: the rest, once each', T, async () => {
      const ai = d.client();
      const url = `${base}/late-${name}.html`;
      const hits0 = hits;
      const stream = await ai.interactions.create({ model: 'demo', input: `Summarize the content of ${url}`,
        tools: TOOLS, generation_config: CFG, stream: true, background: true });
      const first = [];
      let callIndex = null;
      for await (const e of stream) {
        first.push(e);
        if (e.event_type === d.start && d.item(e)?.type === 'url_context_call') callIndex = e.index;
        if (e.event_type === d.stop && e.index === callIndex) break; // the call is whole: the fetch starts
      }
      assert.notEqual(callIndex, null, `a url_context call was streamed: ${first.map((e) => e.event_type)}`);
      const id = first[0].interaction.id;
      const last = first[first.length - 1];
      // the tool step is still waiting for the page
      assert.equal((await ai.interactions.get(id)).status, 'in_progress');

      const rest = await collect(await ai.interactions.get(id, { stream: true, last_event_id: last.event_id }));
      assert.ok(rest.length > 0, 'events after the call');
      const seqs = rest.map(seqOf);
      assert.equal(seqs[0], seqOf(last) + 1, 'the first resumed event follows the given one');
      seqs.forEach((s, i) => assert.equal(s, seqOf(last) + 1 + i, `event ids dense and increasing: ${seqs}`));
      const result = rest.find((e) => e.event_type === d.start && d.item(e)?.type === 'url_context_result');
      assert.ok(result, `the tool's result came after the resume: ${rest.map((e) => e.event_type)}`);
      assert.ok(rest.some((e) => e.event_type === d.start && e.index > result.index), 'a model step after the result');
      assert.equal(rest[rest.length - 1].event_type, d.complete);

      // the stored log is exactly what the two reads gave
      const all = await collect(await ai.interactions.get(id, { stream: true }));
      assert.deepEqual(all.map((e) => [e.event_id, e.event_type]), [...first, ...rest].map((e) => [e.event_id, e.event_type]));
      const done = await ai.interactions.get(id);
      assert.notEqual(done.status, 'in_progress');
      assert.ok(hits - hits0 >= 1, 'the page was fetched');
    });
  });
}

// Helpers for the steps-dialect suite (steps-*.test.mjs): an SDK 3.x client
// (`@google/genai` 3.3.0, installed under the alias `genai3`) pointed at a
// server started by lib/server.mjs, and the 3.x idioms the tests share —
// text of the model_output steps, text of the step.delta events, steps
// rebuilt from a stream by index, and a request counter (3.x has its own
// HTTP stack, so the 1.x fetch hook in server.mjs does not apply).
import { GoogleGenAI } from 'genai3';

/** SDK 3.x client for a server from startServer(). Its HTTP requests are
 * counted in client.requests ({n, urls}) through httpOptions.fetch, which 3.x
 * uses for its interactions client, so a test can prove 3.x did not retry. */
export function client3(srv, apiKey = 'e2e-key', httpOptions = {}) {
  const requests = { n: 0, urls: [] };
  const counting = (input, init) => {
    requests.n++;
    requests.urls.push(`${input?.method || init?.method || 'GET'} ${input?.url || input}`);
    return fetch(input, init);
  };
  const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl: srv.url, fetch: counting, ...httpOptions } });
  ai.requests = requests;
  return ai;
}

/** Text of the model_output steps after the last user_input step (what
 * answers this turn), as the SDK's own output_text computes it. */
export function stepsText(it) {
  const steps = it.steps || [];
  let start = 0;
  for (let i = steps.length - 1; i >= 0; i--) if (steps[i].type === 'user_input') { start = i + 1; break; }
  return steps.slice(start).filter((s) => s.type === 'model_output')
    .flatMap((s) => s.content || []).filter((c) => c.type === 'text').map((c) => c.text).join('');
}

/** The model_output steps of a create answer / GET (input steps left out). */
export function outputSteps(it) {
  return (it.steps || []).filter((s) => s.type !== 'user_input');
}

/** Concatenated text of a stream's step.delta text events. */
export function stepDeltaText(events) {
  return events.filter((e) => e.event_type === 'step.delta' && e.delta?.type === 'text')
    .map((e) => e.delta.text).join('');
}

/** Rebuilds steps from step.start / step.delta events, by index. */
export function rebuildSteps(events) {
  const steps = [];
  for (const e of events) {
    if (e.event_type === 'step.start') steps[e.index] = { ...e.step, content: [] };
    if (e.event_type === 'step.delta' && e.delta.type === 'text') {
      const st = steps[e.index];
      const last = st.content[st.content.length - 1];
      if (last && last.type === 'text') last.text += e.delta.text;
      else st.content.push({ type: 'text', text: e.delta.text });
    }
  }
  return steps;
}

export const STEP_EVENT_ORDER = ['interaction.created', 'interaction.status_update', 'step.start', 'step.delta',
  'step.stop', 'interaction.status_update', 'interaction.completed'];

/** Checks the order of a whole steps-dialect stream; returns its interaction id. */
export function checkStepsOrder(assert, events) {
  const types = events.map((e) => e.event_type);
  assert.equal(types[0], 'interaction.created', `starts with interaction.created: ${types.join(',')}`);
  assert.equal(types[1], 'interaction.status_update');
  assert.equal(types[types.length - 1], 'interaction.completed', `ends with interaction.completed: ${types.join(',')}`);
  assert.equal(types[types.length - 2], 'interaction.status_update');
  for (const t of types) {
    assert.ok(STEP_EVENT_ORDER.includes(t) || t === 'error', `only steps-dialect events: ${t}`);
    assert.ok(!/^content\.|^interaction\.(start|complete)$/.test(t), `no legacy event: ${t}`);
  }
  const ids = events.map((e) => e.event_id);
  assert.equal(new Set(ids).size, ids.length, 'event_ids are unique');
  assert.ok(ids.every((x) => typeof x === 'string' && x.length > 0), 'every event has an event_id');
  const id = events[0].interaction.id;
  for (const e of events) {
    if (e.event_type === 'interaction.status_update') assert.equal(e.interaction_id, id);
    if (e.interaction) assert.equal(e.interaction.id, id);
  }
  return id;
}

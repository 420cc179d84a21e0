// api: the console's calls to the Interactions API of the server that served
// it (same origin), in the legacy dialect (Api-Revision pins it whatever the
// server's --default-dialect), with the key from localStorage.
const REVISION = '2025-12-01';

export const keyStore = {
  get: () => localStorage.getItem('interactd.key') || '',
  set: (k) => localStorage.setItem('interactd.key', k),
};

function headers(json) {
  const h = { 'Api-Revision': REVISION };
  const k = keyStore.get();
  if (k) h['x-goog-api-key'] = k;
  if (json) h['Content-Type'] = 'application/json';
  return h;
}

async function failure(res) {
  let msg = `${res.status} ${res.statusText}`;
  try {
    const j = await res.json();
    if (j && j.error && j.error.message) msg = `${res.status}: ${j.error.message}`;
  } catch { /* not JSON */ }
  const e = new Error(msg);
  e.status = res.status;
  return e;
}

async function call(method, path, body) {
  const res = await fetch(path, { method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw await failure(res);
  return res.json();
}

/** Names of the served models: GET /v1beta/models when the server has it,
 * else the list in /healthz. */
export async function listModels() {
  try {
    const j = await call('GET', '/v1beta/models');
    if (j && Array.isArray(j.models)) return j.models.map((m) => String(m.name).replace(/^models\//, ''));
  } catch { /* older server: /healthz below */ }
  const res = await fetch('/healthz');
  const j = await res.json();
  return Array.isArray(j.models) ? j.models : [];
}

/** The key's stored interactions, newest first (GET /v1beta/interactions,
 * paged with next_page_token), at most max of them. */
export async function listInteractions(max = 200) {
  const all = [];
  let token = '';
  do {
    const j = await call('GET', `/v1beta/interactions?page_size=100${token ? `&page_token=${encodeURIComponent(token)}` : ''}`);
    all.push(...(j.interactions || []));
    token = j.next_page_token || '';
  } while (token && all.length < max);
  return all.slice(0, max);
}

export const create = (body) => call('POST', '/v1beta/interactions', body);
export const get = (id, includeInput = true) =>
  call('GET', `/v1beta/interactions/${encodeURIComponent(id)}${includeInput ? '?include_input=true' : ''}`);
export const cancel = (id) => call('POST', `/v1beta/interactions/${encodeURIComponent(id)}/cancel`);

/** POST with stream: true; calls onEvent(obj) for each SSE frame's JSON
 * until the stream ends. signal aborts the fetch. */
export async function stream(body, onEvent, signal) {
  const res = await fetch('/v1beta/interactions', {
    method: 'POST', headers: headers(true), body: JSON.stringify({ ...body, stream: true }), signal,
  });
  if (!res.ok) throw await failure(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let cut;
    while ((cut = buf.search(/\r?\n\r?\n/)) >= 0) {
      const frame = buf.slice(0, cut);
      buf = buf.slice(cut).replace(/^\r?\n\r?\n/, '');
      const data = frame.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
      if (!data || data === '[DONE]') continue;
      onEvent(JSON.parse(data));
    }
  }
}

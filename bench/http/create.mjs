// create.mjs: latency of sequential creates against a model asked for one
// token (generation_config.max_output_tokens 1), over one keep-alive
// connection (node's fetch pools it). Non-streaming, so the time is POST
// sent -> whole JSON body received: HTTP parsing, request decoding, chat
// template + tokenizing, queueing to the engine, prefill + 1 sampled token,
// the store write (store: true) and the JSON encoding of the interaction.
// Also times GET /healthz on the same connection as the floor of one HTTP
// round trip through the server.
//
// Usage: node create.mjs URL MODEL N STORE(true|false)
// Prints one JSON line: {n, store, p50_ms, p90_ms, p99_ms, mean_ms,
//   healthz_p50_ms, input_tokens, cached_tokens, output_tokens}
const [url, model, nArg, storeArg] = process.argv.slice(2);
if (!url || !model) {
  console.error('usage: node create.mjs URL MODEL N STORE');
  process.exit(2);
}
const N = Number(nArg || 200);
const store = storeArg !== 'false';
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };
const body = JSON.stringify({ model, input: 'Once upon a time', store,
  generation_config: { temperature: 0, max_output_tokens: 1 } });
let usage = null;
async function create() {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1beta/interactions`, { method: 'POST',
    headers: { 'content-type': 'application/json' }, body });
  const j = await res.json();
  const t = performance.now() - t0;
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${JSON.stringify(j)}`);
  usage = j.usage;
  return t;
}
async function healthz() {
  const t0 = performance.now();
  const res = await fetch(`${url}/healthz`);
  await res.text();
  return performance.now() - t0;
}
for (let i = 0; i < 20; i++) { await create(); await healthz(); } // warm-up
const ts = [], hs = [];
for (let i = 0; i < N; i++) { ts.push(await create()); hs.push(await healthz()); }
const f = (x) => +x.toFixed(3);
console.log(JSON.stringify({ n: N, store, p50_ms: f(pct(ts, 0.5)), p90_ms: f(pct(ts, 0.9)), p99_ms: f(pct(ts, 0.99)),
  mean_ms: f(ts.reduce((a, b) => a + b, 0) / N), healthz_p50_ms: f(pct(hs, 0.5)),
  input_tokens: usage.total_input_tokens, cached_tokens: usage.total_cached_tokens,
  output_tokens: usage.total_output_tokens }));

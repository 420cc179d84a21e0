// load.mjs: a closed-loop load generator for the store benchmark. C workers,
// each with its own keep-alive connection pool (node's fetch), send requests
// back to back for S seconds, spread round-robin over one or more interactd
// URLs (one instance, or two on one database).
//   create: POST /v1beta/interactions, store true, background false, the demo
//           model, max_output_tokens 1 (the store's write dominates); the ids
//           are appended to IDS_FILE
//   get:    GET /v1beta/interactions/{id} of ids read from IDS_FILE (existing
//           ids, picked in turn), each URL asked for any id (an id created
//           on one instance read through the other)
// Usage: node load.mjs create|get URL[,URL2] C S IDS_FILE
// Prints one JSON line: {mode, urls, conc, secs, n, errors, rps, p50_ms, p99_ms}
import fs from 'node:fs';
const [mode, urlsArg, cArg, sArg, idsFile] = process.argv.slice(2);
if (!['create', 'get'].includes(mode) || !urlsArg || !idsFile) {
  console.error('usage: node load.mjs create|get URL[,URL2] C S IDS_FILE'); process.exit(2);
}
const urls = urlsArg.split(',');
const C = Number(cArg || 8);
const S = Number(sArg || 10);
const ids = mode === 'get' ? fs.readFileSync(idsFile, 'utf8').split('\n').filter(Boolean) : [];
if (mode === 'get' && !ids.length) { console.error('no ids to read'); process.exit(2); }
const body = JSON.stringify({ model: 'demo', input: 'Hi', store: true, background: false,
  generation_config: { temperature: 0, max_output_tokens: 1 } });
const lat = [], made = [];
let errors = 0, turn = 0, lastErr = null;
const end = performance.now() + S * 1000;
async function one(i) {
  const url = urls[i % urls.length];
  const t0 = performance.now();
  const res = mode === 'create'
    ? await fetch(`${url}/v1beta/interactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    : await fetch(`${url}/v1beta/interactions/${ids[i % ids.length]}`);
  const text = await res.text();
  const t = performance.now() - t0;
  if (res.status !== 200) { errors++; lastErr = `${res.status} ${text.slice(0, 200)}`; return; }
  lat.push(t);
  if (mode === 'create') made.push(JSON.parse(text).id);
}
async function worker() { while (performance.now() < end) await one(turn++); }
const t0 = performance.now();
await Promise.all(Array.from({ length: C }, worker));
const secs = (performance.now() - t0) / 1000;
if (mode === 'create') fs.appendFileSync(idsFile, made.map((x) => x + '\n').join(''));
const pct = (p) => { const s = [...lat].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };
const f = (x) => +(x ?? NaN).toFixed(2);
console.log(JSON.stringify({ mode, urls: urls.length, conc: C, secs: f(secs), n: lat.length, errors,
  rps: f(lat.length / secs), p50_ms: f(pct(0.5)), p99_ms: f(pct(0.99)), ...(lastErr ? { last_error: lastErr } : {}) }));

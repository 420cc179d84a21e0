// gap.mjs: the gap between tokens of S running streams while one long prompt
// arrives (issue 4, benchmark 3). Per run: start S streaming requests
// (temperature 1, so the random model samples across its vocabulary; use a
// model from bench/gap/mkvisible.py so that every token is a text frame),
// wait until each has sent WARM frames, then send one non-streaming request
// whose prompt is PROMPT_WORDS words (~2 tokens each) with a 1-token limit,
// keep the streams going for 1 s after it is answered, then abort them.
// A gap is the time between two consecutive token frames of one stream, as
// the client receives them. "before" = gaps ending before the long prompt
// was sent (steady state); "during" = gaps overlapping [sent, answered].
// SDK-free, the same code path for both servers.
//
// Usage: node gap.mjs interactd|llama URL MODEL RUNS PROMPT_WORDS [STREAMS=4] [WARM=30]
// Prints one JSON line: medians over runs of before_p50_ms, during_p50_ms,
// during_p99_ms, during_max_ms, prompt_ms (long prompt sent -> answered),
// prompt_tokens; plus pooled percentiles over all runs' during-gaps and
// the per-run values.
const [kind, url, model, nRuns, nWords, nStreams, nWarm] = process.argv.slice(2);
if (!kind || !url) {
  console.error('usage: node gap.mjs interactd|llama URL MODEL RUNS PROMPT_WORDS [STREAMS] [WARM]');
  process.exit(2);
}
const S = Number(nStreams || 4), WARM = Number(nWarm || 30);
const WORDS = 'the cat sat on a warm mat and looked at the little dog who ran around the big green park'.split(' ');
const longPrompt = (tag) => {
  const w = [];
  for (let i = 0; i < Number(nWords); i++) w.push(WORDS[i % WORDS.length]);
  return `${tag}: ${w.join(' ')}`;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => { if (!xs.length) return NaN; const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };
const median = (xs) => pct(xs, 0.5);

async function sse(res, onData) {
  const dec = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body) {
    buf += dec.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (data && data !== '[DONE]') onData(JSON.parse(data));
    }
  }
}

// One stream: pushes the arrival time of each token frame into `times`.
async function stream(tag, seed, times, signal) {
  const long = 4000;
  try {
    const res = kind === 'llama'
      ? await fetch(`${url}/completion`, { method: 'POST', signal, headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: tag, n_predict: long, stream: true, temperature: 1, top_k: 0, top_p: 1,
          min_p: 0, seed }) })
      : await fetch(`${url}/v1beta/interactions`, { method: 'POST', signal, headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, input: tag, stream: true, store: false,
          generation_config: { temperature: 1, seed, max_output_tokens: long } }) });
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    await sse(res, (ev) => {
      const now = performance.now();
      if (kind === 'llama' ? (ev.content !== undefined && !ev.stop) : ev.event_type === 'content.delta') times.push(now);
    });
  } catch (e) {
    if (e.name !== 'AbortError' && !signal.aborted) throw e;
  }
}

async function longRequest(tag) {
  const t0 = performance.now();
  const res = kind === 'llama'
    ? await fetch(`${url}/completion`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: longPrompt(tag), n_predict: 1, temperature: 0, cache_prompt: false }) })
    : await fetch(`${url}/v1beta/interactions`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, input: longPrompt(tag), store: false,
        generation_config: { temperature: 0, max_output_tokens: 1 } }) });
  const j = await res.json();
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${JSON.stringify(j)}`);
  const tokens = kind === 'llama' ? (j.tokens_evaluated ?? j.timings?.prompt_n) : j.usage.total_input_tokens;
  return { t0, t1: performance.now(), tokens };
}

const runs = [];
const pooled = [];
for (let r = 0; r < Number(nRuns || 3); r++) {
  const ac = new AbortController();
  const times = Array.from({ length: S }, () => []);
  const tag = `run ${r} ${Math.random()}`;
  const streams = times.map((t, s) => stream(`${tag} stream ${s}: once upon a time`, 1000 * r + s + 1, t, ac.signal));
  const deadline = performance.now() + 60000;
  while (times.some((t) => t.length < WARM)) {
    if (performance.now() > deadline) throw new Error(`streams did not start: frames ${times.map((t) => t.length)}`);
    await sleep(20);
  }
  const lr = await longRequest(tag);
  await sleep(1000);
  ac.abort();
  await Promise.all(streams);
  const before = [], during = [];
  let short = 0;
  for (const t of times) {
    for (let i = 1; i < t.length; i++) {
      const a = t[i - 1], b = t[i];
      if (b <= lr.t0) before.push(b - a);
      else if (a < lr.t1) during.push(b - a);
    }
    if (t[t.length - 1] < lr.t1) short++; // a stream that ended before the long prompt was done
  }
  pooled.push(...during);
  runs.push({ before_p50_ms: median(before), during_p50_ms: median(during), during_p99_ms: pct(during, 0.99),
    during_max_ms: Math.max(...during), during_gaps: during.length, prompt_ms: lr.t1 - lr.t0,
    prompt_tokens: lr.tokens, streams_ended_early: short });
  await sleep(500);
}
const f = (x) => +x.toFixed(1);
const med = (k) => f(median(runs.map((x) => x[k])));
console.log(JSON.stringify({
  kind, streams: S, runs: runs.length,
  before_p50_ms: med('before_p50_ms'), during_p50_ms: med('during_p50_ms'), during_p99_ms: med('during_p99_ms'),
  during_max_ms: med('during_max_ms'), prompt_ms: med('prompt_ms'), prompt_tokens: median(runs.map((x) => x.prompt_tokens)),
  pooled_p99_ms: f(pct(pooled, 0.99)), pooled_gaps: pooled.length,
  per_run: runs.map((x) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, typeof v === 'number' ? f(v) : v]))),
}));

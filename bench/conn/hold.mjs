// hold.mjs: how many SSE streams the server holds open at once, and whether
// they all complete. The engine is kept busy by a blocker run (background,
// its length forced by a schema: 1,000 strings of at least 500
// characters each, so the model cannot stop early), and a short background run B waits in the queue
// behind it (the server runs with --parallel 1). N raw connections then ask
// for B's stream (GET ?stream=true): each gets B's first events at once and
// then waits, so all N are open at the same time. Once every stream has had
// its first frame, or HOLD_WAIT_MS have passed, the blocker is cancelled, B
// runs, and every held stream must deliver B's events to `event: done`.
//
// Usage: node hold.mjs URL N
// Prints one JSON line: {n, held (streams that had their first frame while
// all waited), refused (503 or closed before a frame), completed (reached
// `event: done` with the complete event), open_ms (time until the last held
// stream's first frame), drain_ms (cancel -> last stream done), rss_kb /
// threads of the server at the peak (SRV_PID from the environment)}
import net from 'node:net';
import fs from 'node:fs';

const [url, nArg] = process.argv.slice(2);
const N = Number(nArg || 1000);
const HOLD_WAIT_MS = Number(process.env.HOLD_WAIT_MS || 20000);
const u = new URL(url);
const P = '/v1beta/interactions';

async function post(path, body) {
  const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body) });
  const j = await res.json();
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${JSON.stringify(j)}`);
  return j;
}

function procStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return { rss_kb: +/VmRSS:\s+(\d+)/.exec(s)[1], threads: +/Threads:\s+(\d+)/.exec(s)[1] };
  } catch { return { rss_kb: null, threads: null }; }
}

const blocker = await post(P, { model: 'demo', input: 'block', background: true,
  response_format: { type: 'array', minItems: 1000, items: { type: 'string', minLength: 500 } },
  generation_config: { max_output_tokens: 1000000 } });
const b = await post(P, { model: 'demo', input: 'Tell a long river tale, part 1.', background: true,
  generation_config: { temperature: 0, max_output_tokens: 32 } });

const t0 = performance.now();
let held = 0, refused = 0, completed = 0, lastOpen = 0, doneAt = 0, ended = 0;
let resolveHeld, resolveEnd;
const allHeld = new Promise((r) => { resolveHeld = r; });
const allEnded = new Promise((r) => { resolveEnd = r; });
const finish = () => { if (++ended === N) resolveEnd(); };
const checkHeld = () => { if (held + refused === N) resolveHeld(); };

for (let i = 0; i < N; i++) {
  const s = net.connect({ host: u.hostname, port: +u.port });
  let buf = '', first = false, over = false;
  const end = (ok) => {
    if (over) return;
    over = true;
    if (ok) { completed++; doneAt = performance.now(); }
    if (!first) { refused++; checkHeld(); }
    s.destroy();
    finish();
  };
  s.setEncoding('utf8');
  s.on('connect', () => s.write(`GET ${P}/${b.id}?stream=true HTTP/1.1\r\nHost: x\r\n\r\n`));
  s.on('data', (d) => {
    buf += d;
    if (!first && /\r\n\r\n[\s\S]*\n\n/.test(buf)) {
      if (!/^HTTP\/1\.1 200/.test(buf)) return end(false);
      first = true;
      held++;
      lastOpen = performance.now();
      checkHeld();
    }
    if (buf.includes('event: done')) end(/interaction\.complete/.test(buf));
    if (buf.length > 1 << 16) buf = buf.slice(-4096);
  });
  s.on('error', () => end(false));
  s.on('close', () => end(false));
}
await Promise.race([allHeld, new Promise((r) => setTimeout(r, HOLD_WAIT_MS))]);
const peak = procStat(process.env.SRV_PID);
const heldAtCancel = held;
const tc = performance.now();
await post(`${P}/${blocker.id}/cancel`, {});
await Promise.race([allEnded, new Promise((r) => setTimeout(r, 120000))]);
console.log(JSON.stringify({ n: N, held: heldAtCancel, refused, completed,
  open_ms: Math.round(lastOpen - t0), drain_ms: doneAt ? Math.round(doneAt - tc) : null, ...peak }));
process.exit(0);

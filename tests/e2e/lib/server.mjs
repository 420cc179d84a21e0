// Live-server harness for the end-to-end suite: starts build/interactd (or
// $INTERACTD_BIN) on a free port with a fresh data dir, waits for its
// "interactd listening on" line, and hands out an official @google/genai
// client pointed at it plus a raw fetch helper for wire-level checks. Every
// server started here is tracked and killed by stopAll() (each test file
// registers it with after()) and, as a last resort, on process exit. On stop
// the server's stderr is scanned for sanitizer reports, so the ASan+UBSan
// run of the suite fails when the server misbehaves even if every HTTP
// answer looked right.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GoogleGenAI } from '@google/genai';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '../../..');
export const BIN = process.env.INTERACTD_BIN || path.join(REPO_ROOT, 'build/interactd');
export const DEMO_MODEL = process.env.INTERACTD_DEMO_MODEL || path.join(REPO_ROOT, 'build/demo.gguf');
export const MODELS_DIR = process.env.E2E_MODELS_DIR || path.resolve(REPO_ROOT, '../shared/models');
export const STORIES_MODEL = path.join(MODELS_DIR, 'stories260K.gguf');
export const HAVE_STORIES = fs.existsSync(STORIES_MODEL);

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const live = new Set();
const everyServer = [];
const sanitizerReports = [];

/** A port nobody listens on right now (listen on 0, read it, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function sanitizerFindings(text) {
  const lines = text.split('\n');
  const hits = lines.filter((l) =>
    /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer/.test(l));
  return hits;
}

/**
 * Starts interactd.
 * opts.models: {name: path} -> --model name=path (omit for the built-in demo)
 * opts.apiKeys: [keys] -> written to a file, --api-keys FILE
 * opts.maxBody, opts.retention: the matching flags
 * opts.dataDir: reuse a data dir (restart); default a fresh temp dir
 * opts.env: extra environment; opts.args: extra arguments
 * opts.store: a --store value (default: $E2E_STORE's database for the data
 *   dir, or SQLite when E2E_STORE is unset)
 *
 * E2E_STORE (the Makefile's e2e-pg target sets it): a PostgreSQL server's
 * libpq conninfo (tests/pg.sh's DIR/conninfo). Each fresh data dir then gets
 * a fresh database of its own on that server, and a server started again on
 * the same data dir (restart) the same database, so the suite's files run
 * unchanged against PostgreSQL.
 */
export async function startServer(opts = {}) {
  if (!fs.existsSync(BIN)) throw new Error(`interactd binary not found at ${BIN} (set INTERACTD_BIN)`);
  const dataDir = opts.dataDir || fs.mkdtempSync(path.join(os.tmpdir(), 'interactd-e2e-'));
  const ownDataDir = !opts.dataDir;
  const port = opts.port || (await freePort());
  const args = ['serve', '--port', String(port), '--data', dataDir];
  for (const [name, p] of Object.entries(opts.models || {})) args.push('--model', `${name}=${p}`);
  if (opts.apiKeys) {
    const f = `${dataDir}.keys`;
    fs.writeFileSync(f, opts.apiKeys.join('\n') + '\n');
    args.push('--api-keys', f);
  }
  // One engine thread: the test models are tiny, and on a small shared
  // machine (2 cores, node + compilers beside it) ggml's spinning worker
  // threads made a 2-thread server up to 40x slower. E2E_THREADS overrides.
  const threads = opts.threads ?? process.env.E2E_THREADS ?? 1;
  if (threads !== 'default') args.push('--threads', String(threads));
  if (opts.maxBody) args.push('--max-body', String(opts.maxBody));
  if (opts.retention) args.push('--retention', String(opts.retention));
  const store = opts.store || (process.env.E2E_STORE ? pgStoreFor(process.env.E2E_STORE, dataDir, ownDataDir) : null);
  if (store) args.push('--store', store);
  if (opts.args) args.push(...opts.args);

  const env = { ...process.env, ...(opts.env || {}) };
  if (!opts.env || !('INTERACTD_STORE' in opts.env)) delete env.INTERACTD_STORE;
  if (!opts.env || !('INTERACTD_API_KEYS' in opts.env)) delete env.INTERACTD_API_KEYS;
  const proc = spawn(BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  const verbose = !!process.env.E2E_VERBOSE;
  proc.stderr.setEncoding('utf8');
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d) => { stdout += d; if (verbose) process.stderr.write(d); });
  // 'close' (not 'exit'): it comes after the stdio pipes are drained, so stderr is whole.
  const exited = new Promise((resolve) => proc.on('close', (code, signal) => resolve({ code, signal })));

  const srv = {
    port, dataDir, proc, args,
    host: '127.0.0.1',
    url: `http://127.0.0.1:${port}`,
    listenLine: null,
    exitInfo: null,
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
  };
  exited.then((info) => { srv.exitInfo = info; live.delete(srv); });
  live.add(srv);
  everyServer.push(srv);

  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(
      `interactd did not print its listening line within ${START_TIMEOUT_MS} ms\n` +
      `command: ${BIN} ${args.join(' ')}\n--- stderr ---\n${stderr}`)), START_TIMEOUT_MS);
    proc.stderr.on('data', (d) => {
      stderr += d;
      if (verbose) process.stderr.write(d);
      const m = /interactd listening on (http:\/\/\S+)/.exec(stderr);
      if (m && !srv.listenLine) {
        srv.listenLine = m[0];
        srv.announcedUrl = m[1];
        clearTimeout(timer);
        resolve();
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`interactd exited before listening (code ${code}, signal ${signal})\n` +
        `command: ${BIN} ${args.join(' ')}\n--- stderr ---\n${stderr}`));
    });
  });
  try {
    await ready;
  } catch (e) {
    if (!srv.exitInfo) proc.kill('SIGKILL');
    throw e;
  }

  srv.checkSanitizers = () => {
    const hits = sanitizerFindings(stderr);
    if (hits.length) sanitizerReports.push(`server on port ${port}:\n${stderr}`);
    return hits;
  };
  /** Graceful stop (SIGTERM, then SIGKILL after a grace period); resolves {code, signal}. */
  srv.stop = async () => {
    if (!srv.exitInfo) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => { if (!srv.exitInfo) proc.kill('SIGKILL'); }, STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(t);
    }
    srv.checkSanitizers();
    if ((ownDataDir || srv._ownsDir) && !process.env.E2E_KEEP) {
      srv._cleanup = () => {
        fs.rmSync(dataDir, { recursive: true, force: true });
        fs.rmSync(`${dataDir}.keys`, { force: true });
      };
    }
    return srv.exitInfo;
  };
  /** Crash: kill -9, wait for the exit. */
  srv.kill9 = async () => {
    if (!srv.exitInfo) proc.kill('SIGKILL');
    await exited;
    srv.checkSanitizers();
    return srv.exitInfo;
  };
  /** A new server on the same data dir (and same options), after this one stopped. */
  srv.restart = async (more = {}) => {
    if (!srv.exitInfo) await srv.stop();
    srv._cleanup = null;
    const next = await startServer({ ...opts, ...more, dataDir, port: undefined });
    next._ownsDir = ownDataDir || !!srv._ownsDir;
    return next;
  };
  srv.client = (apiKey = 'e2e-key', httpOptions = {}) => makeClient(srv.url, apiKey, httpOptions);
  srv.raw = (method, p, o) => raw(srv.url, method, p, o);
  return srv;
}

/** Runs one SQL text with psql on a conninfo; its output (tuples only). */
export function psql(conninfo, sql) {
  return execFileSync('psql', ['-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-d', conninfo, '-c', sql],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** The conninfo of the database for dataDir on the server of conninfo
 * (made fresh when the data dir is; kept when a server restarts on it). */
export function pgStoreFor(conninfo, dataDir, fresh = true) {
  const db = 'e2e_' + path.basename(dataDir).replace(/[^A-Za-z0-9]/g, '_').toLowerCase();
  const exists = psql(conninfo, `SELECT 1 FROM pg_database WHERE datname = '${db}'`) === '1';
  if (fresh && exists) psql(conninfo, `DROP DATABASE "${db}" WITH (FORCE)`);
  if (fresh || !exists) psql(conninfo, `CREATE DATABASE "${db}"`);
  return `${conninfo} dbname=${db}`;
}

/** Official SDK client for a base URL. Its interactions sub-client is touched
 * once with console.warn silenced (it prints an "experimental" notice). */
export function makeClient(baseUrl, apiKey = 'e2e-key', httpOptions = {}) {
  const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl, ...httpOptions } });
  const warn = console.warn;
  console.warn = () => {};
  try { void ai.interactions; } finally { console.warn = warn; }
  return ai;
}

/** Wraps the SDK's fetch so the test can count the HTTP requests it makes. */
export function countRequests(ai) {
  const c = ai.interactions._client;
  const orig = c.fetch;
  const counter = { n: 0, urls: [] };
  c.fetch = (url, init) => { counter.n++; counter.urls.push(`${init?.method || 'GET'} ${url}`); return orig(url, init); };
  return counter;
}

/** The SDK's error classes (BadRequestError, NotFoundError, ...). */
export function sdkErrors(ai) {
  return ai.interactions._client.constructor;
}

/**
 * Raw HTTP request. o.body: object (JSON-encoded) or string (sent verbatim);
 * o.key: sent as x-goog-api-key; o.headers: extra headers.
 * Resolves {status, headers, text, json (or undefined)}.
 */
export async function raw(baseUrl, method, p, o = {}) {
  const headers = { ...(o.headers || {}) };
  let body;
  if (o.body !== undefined) {
    body = typeof o.body === 'string' || o.body instanceof Uint8Array ? o.body : JSON.stringify(o.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  if (o.key) headers['x-goog-api-key'] = o.key;
  const res = await fetch(baseUrl + p, { method, headers, body, signal: o.signal });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

/** Splits an SSE body into frames: [{event, data, json, raw}]. Also reports
 * whether the text ends with a blank line (frames without one are dropped by
 * the SDK). */
export function parseSSE(text) {
  const norm = text.replace(/\r\n?/g, '\n');
  const blocks = norm.split('\n\n');
  const trailing = blocks.pop(); // '' when the body ended with a blank line
  const frames = [];
  for (const b of blocks) {
    const lines = b.split('\n').filter((l) => l !== '' && !l.startsWith(':'));
    if (!lines.length) continue;
    const f = { event: undefined, data: undefined, raw: b };
    for (const l of lines) {
      const i = l.indexOf(':');
      const field = i < 0 ? l : l.slice(0, i);
      let val = i < 0 ? '' : l.slice(i + 1);
      if (val.startsWith(' ')) val = val.slice(1);
      if (field === 'event') f.event = val;
      else if (field === 'data') f.data = f.data === undefined ? val : f.data + '\n' + val;
      else f[field] = val;
    }
    try { f.json = f.data !== undefined && f.data !== '[DONE]' ? JSON.parse(f.data) : undefined; } catch { f.json = undefined; }
    frames.push(f);
  }
  return { frames, endsWithBlankLine: trailing === '' || trailing.trim() === '', trailing };
}

/** Kills every server still running, removes temp data dirs, and throws if
 * any server printed a sanitizer report. Register with after(stopAll). */
export async function stopAll() {
  await Promise.all([...live].map((s) => s.stop().catch(() => {})));
  for (const s of everyServer.splice(0)) if (s._cleanup) s._cleanup();
  if (sanitizerReports.length) {
    const r = sanitizerReports.splice(0).join('\n\n');
    throw new Error(`sanitizer reports in interactd stderr:\n${r}`);
  }
}

process.on('exit', () => {
  for (const s of live) { try { s.proc.kill('SIGKILL'); } catch { /* already gone */ } }
});

// ---------- small shared helpers ----------

export const T = { timeout: 60_000 };
export const RFC3339_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
export const ID_RE = /^v1_[A-Za-z0-9_-]+$/;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Concatenated text of an interaction's text outputs. */
export function textOf(it) {
  return (it.outputs || []).filter((o) => o.type === 'text').map((o) => o.text).join('');
}

/** Calls fn until pred(result) or the deadline; returns the last result. */
/** Waits (up to ms) for a server's stderr to match re and returns it: a
 * log line written as a request ends (the access log) or by a background
 * thread may reach this process a moment after the answer does. */
export async function waitStderr(srv, re, ms = 15_000) {
  return pollUntil(() => srv.stderr(), (t) => re.test(t), { timeoutMs: ms, intervalMs: 50, what: `stderr ${re}` });
}

export async function pollUntil(fn, pred, { timeoutMs = 45_000, intervalMs = 100, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (pred(last)) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await sleep(intervalMs);
  }
}

/**
 * A run that ended normally: `completed` when the model ended on its own,
 * `incomplete` when max_output_tokens (or the context) cut it — the demo
 * model's random text seldom ends by itself. Where the interaction echoes
 * its limit and carries usage, the status must agree with them.
 */
export function assertEnded(assert, it) {
  assert.ok(['completed', 'incomplete'].includes(it.status), `ended normally, got ${it.status}`);
  const max = it.generation_config?.max_output_tokens;
  const u = it.usage;
  if (max && u) {
    const n = (u.total_output_tokens ?? 0) + (u.total_thought_tokens ?? 0);
    if (it.status === 'incomplete') assert.equal(n, max, 'incomplete: the limit was reached');
    else assert.ok(n <= max, `completed within the limit (${n} of ${max})`);
  }
}

/** Drains an SDK stream into an array of events. */
export async function collect(stream) {
  const out = [];
  for await (const ev of stream) out.push(ev);
  return out;
}

/** Concatenated text of the content.delta events of a stream. */
export function deltaText(events) {
  return events.filter((e) => e.event_type === 'content.delta' && e.delta?.type === 'text')
    .map((e) => e.delta.text).join('');
}

/** Checks usage is real and consistent; returns it. */
export function checkUsage(assert, usage, { maxOutput } = {}) {
  assert.ok(usage, 'usage present');
  for (const k of ['total_input_tokens', 'total_output_tokens', 'total_thought_tokens',
    'total_cached_tokens', 'total_tool_use_tokens', 'total_tokens']) {
    assert.equal(typeof usage[k], 'number', `usage.${k} is a number (got ${JSON.stringify(usage[k])})`);
    assert.ok(Number.isInteger(usage[k]) && usage[k] >= 0, `usage.${k} is a non-negative integer`);
  }
  assert.ok(usage.total_input_tokens > 0, 'input tokens counted');
  assert.equal(usage.total_tokens,
    usage.total_input_tokens + usage.total_output_tokens + usage.total_thought_tokens,
    'total_tokens = input + output + thought');
  if (maxOutput !== undefined) {
    assert.ok(usage.total_output_tokens <= maxOutput,
      `total_output_tokens ${usage.total_output_tokens} <= max_output_tokens ${maxOutput}`);
  }
  return usage;
}

const longPrompts = new Map();
/**
 * A prompt whose greedy continuation runs at least minTokens tokens before
 * the model stops by itself (the random demo model emits its end token
 * after a few dozen tokens for most prompts). Tests that must catch a run
 * in progress (cancel, disconnect, crash) use it with a large
 * max_output_tokens. Probed with store:false; cached per model name.
 */
export const LONG_MIN = 400;
export async function longPrompt(ai, model = 'demo', minTokens = LONG_MIN) {
  const key = `${model}/${minTokens}`;
  if (longPrompts.has(key)) return longPrompts.get(key);
  const W = ['story', 'long', 'river', 'mountain', 'night', 'cat', 'dog', 'sun', 'tree', 'house', 'friend',
    'world', 'time', 'day', 'little', 'big'];
  const tried = [];
  for (let i = 0; i < 400; i++) {
    const p = `Tell a ${W[i % 16]} ${W[(i * 7 + 3) % 16]} tale, part ${i}.`;
    const r = await ai.interactions.create({
      model, input: p, store: false, generation_config: { temperature: 0, max_output_tokens: minTokens },
    });
    tried.push(r.usage.total_output_tokens);
    if (r.usage.total_output_tokens >= minTokens) {
      longPrompts.set(key, p);
      return p;
    }
  }
  throw new Error(`no prompt among 400 makes ${model} generate ${minTokens} tokens (got ${tried.join(',')})`);
}

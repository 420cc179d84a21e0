// `interactd chat MODEL` in a real terminal: tmux runs it (its own server
// socket, so no other tmux is touched), send-keys types, capture-pane reads
// the screen. Against a live server with a key, on the demo model, greedy:
// an answer streams (seen on screen before the run ends), a second message
// continues the chain and a `/new` starts a fresh one (both checked on the
// server's stored interactions), multi-line input (a trailing \ and a """
// block) arrives as one input, Ctrl-C during a long run cancels it on the
// server and the program stays (the cancelled run is not chained onto),
// and Ctrl-C twice at the prompt leaves with status 0. Skipped, saying so,
// without tmux.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startServer, stopAll, BIN, pollUntil, sleep, REPO_ROOT } from './lib/server.mjs';

const HAVE = (() => { try { execFileSync('tmux', ['-V']); return true; } catch { return false; } })();
const SKIP = HAVE ? false : 'tmux is absent (apt-get install tmux; scripts/deps.sh does)';
const KEY = 'chat-key';
const SOCK = `interactd-chat-test-${process.pid}`;
const T = { timeout: 90_000 };
// Greedy, the demo model repeats this to the end of its context (~4,000
// tokens, several seconds): a run long enough to interrupt.
const ENDLESS = 'a a a a a a a a a a a a a a a a';
const STATUS_RE = /\[(completed|incomplete|failed) (v1_[A-Za-z0-9_-]+)\]/g;

let srv;
const tmux = (...args) => execFileSync('tmux', ['-L', SOCK, ...args], { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-J', '-S', '-2000', '-t', 'chat');
/** The user text of a stored interaction's input (stored as one user turn). */
const userText = (it) => (typeof it.input === 'string' ? it.input
  : it.input.flatMap((t) => t.content || [t]).filter((c) => c.type === 'text').map((c) => c.text).join(''));
const api = (id) => srv.raw('GET', `/v1beta/interactions/${id}?include_input=true`, { key: KEY }).then((r) => r.json);

/** Waits until the screen (from offset `from`) matches re; returns the match. */
async function waitFor(re, from = 0, what = String(re)) {
  let last = '';
  for (const end = Date.now() + 60_000; Date.now() < end; await sleep(50)) {
    last = screen();
    const m = new RegExp(re.source, re.flags.replace('g', '')).exec(last.slice(from));
    if (m) return m;
  }
  throw new Error(`timed out waiting for ${what}; the screen:\n${last}`);
}

/** Types a line (literally) and Enter; returns the screen's length before. */
function type(line) {
  const before = screen().trimEnd().length;
  tmux('send-keys', '-t', 'chat', '-l', line);
  tmux('send-keys', '-t', 'chat', 'Enter');
  return before;
}

/** Types a message and waits for its status line; returns the id. */
async function say(line) {
  const from = type(line);
  const m = await waitFor(/\[(completed|incomplete) (v1_[A-Za-z0-9_-]+)\]/, from, `the answer to ${line}`);
  return m[2];
}

before(async () => {
  if (!HAVE) return;
  srv = await startServer({ apiKeys: [KEY] });
  tmux('new-session', '-d', '-s', 'chat', '-x', '160', '-y', '50',
    `INTERACTD_API_KEY=${KEY} NO_COLOR=1 ${BIN} chat demo --url ${srv.url} --temperature 0 --max-output-tokens 4000; ` +
    'echo "chat exited with $?"; sleep 600');
  tmux('set-option', '-t', 'chat', 'history-limit', '5000');
  await waitFor(/interactd chat with demo/);
}, { timeout: 60_000 });

after(async () => {
  if (HAVE) { try { // the session's text, as a test artifact
    fs.mkdirSync(path.join(REPO_ROOT, 'build/artifacts'), { recursive: true });
    fs.writeFileSync(path.join(REPO_ROOT, 'build/artifacts/chat-cli.txt'), screen());
  } catch { /* no session */ } }
  if (HAVE) { try { tmux('kill-server'); } catch { /* already gone */ } }
  await stopAll();
});

describe('interactd chat in tmux', { skip: SKIP }, () => {
  const ids = [];

  it('streams an answer, and the next message continues the chain', T, async () => {
    ids.push(await say('Hello'));
    const first = await api(ids[0]);
    assert.equal(userText(first), 'Hello');
    assert.ok(!first.previous_interaction_id);
    assert.equal(first.generation_config?.temperature ?? 0, 0);
    ids.push(await say('And then?'));
    assert.equal((await api(ids[1])).previous_interaction_id, ids[0]);
  });

  it('/new starts a fresh chain', T, async () => {
    const from = type('/new');
    await waitFor(/\[a new conversation\]/, from);
    ids.push(await say('A fresh start'));
    const it2 = await api(ids[2]);
    assert.ok(!it2.previous_interaction_id, `no previous: ${JSON.stringify(it2.previous_interaction_id)}`);
  });

  it('joins a line ending in \\ and a """ block into one message', T, async () => {
    type('line one \\');
    ids.push(await say('line two'));
    assert.equal(userText(await api(ids[3])), 'line one \nline two');
    type('"""');
    type('first');
    type('second');
    ids.push(await say('"""'));
    const it2 = await api(ids[4]);
    assert.equal(userText(it2), 'first\nsecond');
    assert.equal(it2.previous_interaction_id, ids[3]);
  });

  it('Ctrl-C cancels a long run on the server; the program stays and goes on', T, async () => {
    await waitFor(/\[a new conversation\]/, type('/new')); // ENDLESS runs long only at a chain's start
    const from = type(ENDLESS);
    // The answer is on screen while the run goes on: it streams.
    await waitFor(new RegExp(`${ENDLESS}\\n[^\\n]*\\S`), from, 'streamed text');
    assert.doesNotMatch(screen().slice(from), STATUS_RE, 'not ended yet');
    tmux('send-keys', '-t', 'chat', 'C-c');
    const m = await waitFor(/\[cancelled (v1_[A-Za-z0-9_-]+)\]/, from, 'the cancel');
    const it2 = await pollUntil(() => api(m[1]), (x) => x.status !== 'in_progress', { what: 'the cancel' });
    assert.equal(it2.status, 'cancelled');
    assert.ok(it2.usage.total_output_tokens < 4000);
    assert.doesNotMatch(screen(), /chat exited/, 'still running');
    // The cancelled run does not become the chain's last answer.
    const next = await say('After the cancel');
    assert.ok(!(await api(next)).previous_interaction_id);
  });

  it('/system sets a system instruction that the next request carries', T, async () => {
    const from = type('/system Answer briefly.');
    await waitFor(/\[system instruction set\]/, from);
    const id = await say('Hi');
    assert.equal((await api(id)).system_instruction, 'Answer briefly.');
  });

  it('/model switches the model; an unknown one is the server\'s clear error, and the chat goes on', T, async () => {
    let from = type('/model nosuch');
    await waitFor(/\[model nosuch; the conversation goes on\]/, from);
    from = type('Hello?');
    await waitFor(/the server answered 404: .*nosuch/, from, 'the 404');
    from = type('/model demo');
    await waitFor(/\[model demo;/, from);
    const id = await say('Hello again');
    assert.equal((await api(id)).model, 'demo');
  });

  it('Ctrl-C twice at the prompt leaves, status 0', T, async () => {
    tmux('send-keys', '-t', 'chat', 'C-c');
    await waitFor(/Ctrl-C again/);
    tmux('send-keys', '-t', 'chat', 'C-c');
    await waitFor(/chat exited with 0/);

  });
});

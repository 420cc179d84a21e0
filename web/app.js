// app: the console's page. One conversation is a chain of interactions
// (each request carries previous_interaction_id = the last one's id). The
// chains started here are kept in localStorage ({first, last, title,
// model}); every chain the server keeps for the key (from any client) is
// listed from GET /v1beta/interactions, its heads being the interactions no
// other one continues. Either is reopened by reading each interaction back
// (GET ...?include_input=true, following previous_interaction_id). Foreground runs stream (fetch +
// ReadableStream over SSE); background runs are polled and can be cancelled.
import * as api from './api.js';
import { el, userTurn, modelTurn, fillOutputs, applyEvent } from './render.js';

const $ = (id) => document.getElementById(id);
const DONE = new Set(['completed', 'failed', 'cancelled', 'incomplete']);
const conv = { first: null, last: null, model: null };
let run = null; // {abort: AbortController | null, id: string | null, background: bool}

const convStore = {
  all: () => { try { return JSON.parse(localStorage.getItem('interactd.convs') || '[]'); } catch { return []; } },
  save: (list) => localStorage.setItem('interactd.convs', JSON.stringify(list.slice(0, 100))),
};

function setState(text) { $('run-state').textContent = text; }

function busy(on, cancellable) {
  $('send').disabled = on;
  $('cancel').disabled = !(on && cancellable);
  $('log').setAttribute('aria-busy', on ? 'true' : 'false');
}

function remember(title) {
  const list = convStore.all().filter((c) => c.first !== conv.first);
  const old = convStore.all().find((c) => c.first === conv.first);
  list.unshift({ first: conv.first, last: conv.last, model: conv.model,
    title: old ? old.title : title.slice(0, 60), updated: Date.now() });
  convStore.save(list);
  showConvs();
  refreshStored();
}

function showConvs() {
  const ul = $('convs');
  ul.replaceChildren();
  for (const c of convStore.all()) {
    const li = el('li');
    const b = el('button', 'conv', c.title || c.first);
    b.type = 'button';
    b.dataset.last = c.last;
    if (c.first === conv.first) b.setAttribute('aria-current', 'true');
    b.addEventListener('click', () => reopen(c));
    li.append(b);
    ul.append(li);
  }
}

/** The key's stored chains: each head (an interaction nothing listed
 * continues) back to its first listed interaction. */
async function refreshStored() {
  const ul = $('stored');
  let items;
  try {
    items = await api.listInteractions(200);
  } catch (e) {
    ul.replaceChildren(el('li', 'note', `Not listed: ${e.message}`));
    return;
  }
  const byId = new Map(items.map((it) => [it.id, it]));
  const continued = new Set(items.map((it) => it.previous_interaction_id).filter(Boolean));
  ul.replaceChildren();
  for (const head of items.filter((it) => !continued.has(it.id))) {
    let root = head;
    for (let n = 0; root.previous_interaction_id && byId.has(root.previous_interaction_id) && n < 500; n++)
      root = byId.get(root.previous_interaction_id);
    const c = { first: root.id, last: head.id, model: head.model || head.agent };
    const li = el('li');
    const label = `${(root.title || head.title || head.id).slice(0, 60)} (${head.status})`;
    const b = el('button', 'stored', label);
    b.type = 'button';
    b.dataset.last = head.id;
    b.addEventListener('click', () => reopen(c));
    li.append(b);
    ul.append(li);
  }
  if (!ul.children.length) ul.append(el('li', 'note', 'None yet.'));
}

function newChat() {
  if (run) return;
  conv.first = conv.last = null;
  $('log').replaceChildren();
  setState('New conversation');
  showConvs();
  $('prompt').focus();
}

/** Reads a chain back, newest first, then shows it oldest first. */
async function reopen(c) {
  if (run) return;
  setState('Opening…');
  const chain = [];
  try {
    for (let id = c.last; id && chain.length < 200;) {
      const it = await api.get(id, true);
      chain.unshift(it);
      id = it.previous_interaction_id;
    }
  } catch (e) {
    setState(`Could not open the conversation: ${e.message}`);
    return;
  }
  conv.first = c.first;
  conv.last = c.last;
  conv.model = c.model;
  if (c.model) selectModel(c.model);
  const log = $('log');
  log.replaceChildren();
  for (const it of chain) {
    log.append(userTurn(it.input));
    const t = modelTurn(it.model || c.model);
    t.dataset.id = it.id;
    t.dataset.status = it.status;
    fillOutputs(t, it.outputs);
    log.append(t);
  }
  setState(`Opened ${chain.length} turn(s)`);
  showConvs();
  $('side').classList.remove('open');
}

function selectModel(name) {
  const s = $('model');
  if (![...s.options].some((o) => o.value === name)) s.append(new Option(name, name));
  s.value = name;
}

/** A picked file as an input part: base64 data with its mime type. */
function filePart(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => {
      const mime = file.type || 'application/octet-stream';
      const type = mime.startsWith('image/') ? 'image' : mime.startsWith('audio/') ? 'audio'
        : mime.startsWith('video/') ? 'video' : 'document';
      resolve({ type, mime_type: mime, data: String(r.result).replace(/^data:[^,]*,/, '') });
    };
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

/** The input: the text alone, or the text and the attached files' parts. */
async function inputOf(text) {
  const files = [...$('attach').files];
  if (!files.length) return text;
  return [{ type: 'text', text }, ...(await Promise.all(files.map(filePart)))];
}

function requestBody(input) {
  const body = { model: $('model').value, input };
  if (conv.last) body.previous_interaction_id = conv.last;
  const sys = $('system').value.trim();
  if (sys) body.system_instruction = sys;
  const gc = {};
  const max = parseInt($('max-tokens').value, 10);
  if (max > 0) gc.max_output_tokens = max;
  const temp = parseFloat($('temperature').value);
  if (!Number.isNaN(temp)) gc.temperature = temp;
  if (Object.keys(gc).length) body.generation_config = gc;
  const mods = $('modalities').value;
  if (mods) body.response_modalities = mods.split(',');
  return body;
}

function finish(turn, it, text) {
  turn.dataset.status = it.status;
  if (it.status === 'completed' || it.status === 'incomplete') {
    if (!conv.first) conv.first = it.id;
    conv.last = it.id;
    conv.model = it.model || $('model').value;
    remember(text);
  }
  const u = it.usage;
  const thought = u && u.total_thought_tokens ? ` + ${u.total_thought_tokens} thought` : '';
  setState(`${it.status}${u ? ` · ${u.total_output_tokens} output${thought} tokens` : ''}`);
}

async function sendStream(body, turn, text) {
  const abort = new AbortController();
  run = { abort, id: null, background: false };
  busy(true, true);
  let final = null;
  await api.stream(body, (ev) => {
    if (ev.event_type === 'interaction.start') {
      run.id = ev.interaction.id;
      turn.dataset.id = run.id;
      setState('Streaming…');
    } else if (ev.event_type === 'interaction.complete') {
      final = ev.interaction;
    } else if (ev.event_type === 'error') {
      turn.body.append(el('p', 'error', ev.error ? ev.error.message : 'error'));
    } else {
      applyEvent(turn, ev);
    }
  }, abort.signal);
  if (!final) throw new Error('the stream ended without interaction.complete');
  // Read it back whole: media arrive in pieces, and this is what a reopen shows.
  let it = final;
  try { it = await api.get(final.id, false); fillOutputs(turn, it.outputs); } catch { /* store: false */ }
  finish(turn, { ...final, ...it, usage: it.usage || final.usage }, text);
}

async function sendBackground(body, turn, text) {
  const it0 = await api.create({ ...body, background: true });
  run = { abort: null, id: it0.id, background: true };
  turn.dataset.id = it0.id;
  turn.dataset.status = it0.status;
  busy(true, true);
  let it = it0;
  while (!DONE.has(it.status)) {
    setState(`Background run ${it.id}: ${it.status}…`);
    await new Promise((r) => setTimeout(r, 500));
    it = await api.get(it.id, false);
  }
  fillOutputs(turn, it.outputs);
  finish(turn, it, text);
}

async function send(ev) {
  ev.preventDefault();
  const text = $('prompt').value;
  if (!text.trim() || run) return;
  if (!$('model').value) { setState('No model: is the server serving one?'); return; }
  let input;
  try { input = await inputOf(text); } catch (e) { setState(`Could not read the attachment: ${e.message}`); return; }
  const body = requestBody(input);
  $('attach').value = '';
  const log = $('log');
  log.append(userTurn(body.input));
  const turn = modelTurn(body.model);
  log.append(turn);
  $('prompt').value = '';
  try {
    if ($('background').checked) await sendBackground(body, turn, text);
    else await sendStream(body, turn, text);
  } catch (e) {
    turn.dataset.status = e.name === 'AbortError' ? 'cancelled' : 'failed';
    turn.body.append(el('p', 'error', e.name === 'AbortError' ? 'Cancelled.' : e.message));
    setState(e.name === 'AbortError' ? 'cancelled' : `Error: ${e.message}`);
    if (e.status === 401 || e.status === 403) $('api-key').focus();
  } finally {
    run = null;
    busy(false, false);
    log.lastElementChild.scrollIntoView({ block: 'end' });
  }
}

async function cancelRun() {
  if (!run) return;
  if (run.abort) { run.abort.abort(); return; } // closing the stream stops its run
  try {
    setState('Cancelling…');
    await api.cancel(run.id);
  } catch (e) { setState(`Cancel failed: ${e.message}`); }
}

async function loadModels() {
  const s = $('model');
  try {
    const names = await api.listModels();
    s.replaceChildren(...names.map((n) => new Option(n, n)));
    const want = localStorage.getItem('interactd.model');
    if (want && names.includes(want)) s.value = want;
    $('model-note').textContent = names.length ? '' : 'no model served';
  } catch (e) {
    $('model-note').textContent = `models: ${e.message}`;
  }
}

function init() {
  $('api-key').value = api.keyStore.get();
  $('key-state').textContent = api.keyStore.get() ? 'Key saved in this browser.' : 'No key saved (fine if the server has none).';
  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    api.keyStore.set($('api-key').value.trim());
    $('key-state').textContent = 'Key saved in this browser.';
    refreshStored();
  });
  $('stored-refresh').addEventListener('click', refreshStored);
  $('send-form').addEventListener('submit', send);
  $('prompt').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); $('send-form').requestSubmit(); }
  });
  $('cancel').addEventListener('click', cancelRun);
  $('new-chat').addEventListener('click', newChat);
  $('model').addEventListener('change', () => localStorage.setItem('interactd.model', $('model').value));
  $('toggle-side').addEventListener('click', () => {
    const open = $('side').classList.toggle('open');
    $('toggle-side').setAttribute('aria-expanded', String(open));
  });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && run) cancelRun(); });
  showConvs();
  refreshStored();
  loadModels();
}

init();

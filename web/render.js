// render: turns of a conversation as DOM. A model turn is built from an
// interaction's outputs (after a run, or when a conversation is reopened)
// or grows block by block from the stream's content events. Text goes
// through md.js (escaped, then a markdown subset); everything else is set
// as textContent.
import { renderMarkdown } from './md.js';
import { mediaElement } from './media.js';

const MEDIA = new Set(['image', 'audio', 'video']);

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The user's side of an interaction's input (string, contents or turns)
 * as content parts: the last user turn's when it is turns. */
export function inputParts(input) {
  if (typeof input === 'string') return [{ type: 'text', text: input }];
  if (!Array.isArray(input)) return [];
  if (input.length && input[0] && 'role' in input[0]) {
    const users = input.filter((t) => t.role === 'user');
    const last = users[users.length - 1];
    if (!last) return [];
    return typeof last.content === 'string' ? [{ type: 'text', text: last.content }] : (last.content || []);
  }
  return input;
}

/** The user's text of an input. */
export function inputText(input) {
  return inputParts(input).filter((p) => p && p.type === 'text').map((p) => p.text).join('\n');
}

/** A user turn: its text as typed, other parts (a function result, media)
 * as the blocks an output of their type gets. */
export function userTurn(input) {
  const t = el('article', 'turn user');
  t.setAttribute('aria-label', 'You');
  const body = el('div', 'body');
  const parts = inputParts(input);
  const text = parts.filter((p) => p && p.type === 'text').map((p) => p.text).join('\n');
  if (text) body.append(el('div', 'plain', text));
  for (const p of parts) if (p && p.type !== 'text') body.append(outputBlock(p));
  t.append(el('div', 'who', 'You'), body);
  return t;
}

export function modelTurn(model) {
  const t = el('article', 'turn model');
  t.setAttribute('aria-label', `Model ${model}`);
  const body = el('div', 'body');
  t.append(el('div', 'who', model), body);
  t.body = body;
  return t;
}

function textBlock(text) {
  const d = el('div', 'md');
  d.innerHTML = renderMarkdown(text); // renderMarkdown escapes all of text first
  d.raw = text;
  return d;
}

function thoughtBlock(summaryText) {
  const d = el('details', 'thought');
  d.append(el('summary', null, 'Thoughts'));
  const p = el('div', 'thought-text plain', summaryText || '');
  d.append(p);
  d.textEl = p;
  return d;
}

function toolBlock(o) {
  const d = el('div', `tool ${o.type}`);
  const name = o.name ? ` ${o.name}` : '';
  d.append(el('div', 'tool-head', `${o.type.replace(/_/g, ' ')}${name}`));
  const shown = { ...o };
  delete shown.type;
  delete shown.signature;
  d.append(el('pre', 'tool-body', JSON.stringify(shown.arguments ?? shown.result ?? shown, null, 2)));
  return d;
}

/** A DOM block for one output content. */
export function outputBlock(o) {
  if (!o || typeof o !== 'object') return el('div');
  if (o.type === 'text') return textBlock(o.text || '');
  if (o.type === 'thought') {
    const s = Array.isArray(o.summary) ? o.summary.map((p) => p.text || '').join('') : '';
    return thoughtBlock(s);
  }
  if (MEDIA.has(o.type)) {
    const f = el('figure', `media ${o.type}`);
    f.append(mediaElement(o));
    return f;
  }
  return toolBlock(o);
}

export function fillOutputs(turn, outputs) {
  turn.body.replaceChildren(...(outputs || []).map(outputBlock));
}

/** Applies one legacy stream event to a model turn being streamed. */
export function applyEvent(turn, ev) {
  turn.blocks = turn.blocks || new Map();
  if (ev.event_type === 'content.start') {
    const c = ev.content || {};
    let b;
    if (c.type === 'text') b = textBlock('');
    else if (c.type === 'thought') b = thoughtBlock('');
    else if (MEDIA.has(c.type)) b = el('div', 'media-pending', `receiving ${c.type}…`);
    else b = toolBlock(c);
    turn.blocks.set(ev.index, b);
    turn.body.append(b);
  } else if (ev.event_type === 'content.delta') {
    const b = turn.blocks.get(ev.index);
    const d = ev.delta || {};
    if (!b) return;
    if (d.type === 'text') {
      b.raw = (b.raw || '') + (d.text || '');
      b.innerHTML = renderMarkdown(b.raw); // escaped first, see md.js
    } else if (d.type === 'thought_summary' && b.textEl) {
      b.textEl.textContent += (d.content && d.content.text) || '';
    } else if (d.type !== 'thought_signature' && !MEDIA.has(d.type) && d.type !== 'text_annotation') {
      const nb = toolBlock(d);
      b.replaceWith(nb);
      turn.blocks.set(ev.index, nb);
    }
  }
}

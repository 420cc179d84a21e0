// google_maps (issue 12), as the guide's "Embasamento com o Google Maps"
// sends it, against OpenStreetMap's two APIs, stood in for by one loopback
// server that speaks them as documented:
// - Nominatim: GET /search?q=...&format=jsonv2&limit=N&addressdetails=1
//   [&viewbox=lon1,lat1,lon2,lat2&bounded=1] → a JSON list of places
//   {place_id, licence, osm_type, osm_id, lat, lon (strings), category,
//   type, place_rank, importance, addresstype, name, display_name,
//   address, boundingbox};
// - Overpass API: POST /api/interpreter with a form field data=<Overpass
//   QL> → {version, generator, osm3s, elements: [{type, id, lat, lon |
//   center, tags}]}.
// interactd runs with --maps-url and --overpass-url naming it (its own
// address is allowed, nothing else). The demo model's text is noise: its
// call is forced with tool_choice, and the tests assert the loop's
// structure (google_maps_call {id, arguments.queries} → google_maps_result
// {call_id, result: [{places: [{name, place_id, url}]}]} → a model step),
// what each API received, usage's grounding_tool_count, place_citation
// annotations where any came (byte offsets within the text, places among
// the results; which sentences name a place is tests/unit/test_maps.c's),
// both dialects and the streams' order.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, stopAll, T, collect } from './lib/server.mjs';
import { client3 } from './lib/steps.mjs';

const CFG = { tool_choice: 'any', temperature: 0, max_output_tokens: 300 };
const TOOLS = [{ type: 'google_maps' }];
const ENDED = ['completed', 'incomplete'];
const HERE = { latitude: 48.2082, longitude: 16.3738 }; // Vienna, Stephansplatz
const LICENCE = 'Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright';
// Nominatim's places (jsonv2), as its /search writes them
const NOMINATIM = [
  { place_id: 297327234, licence: LICENCE, osm_type: 'node', osm_id: 4879393622, lat: '48.2104', lon: '16.3655',
    category: 'amenity', type: 'cafe', place_rank: 30, importance: 0.31, addresstype: 'amenity', name: 'Café Central',
    display_name: 'Café Central, 14, Herrengasse, Innere Stadt, Wien, 1010, Österreich',
    address: { amenity: 'Café Central', house_number: '14', road: 'Herrengasse', suburb: 'Innere Stadt', city: 'Wien',
      postcode: '1010', country: 'Österreich', country_code: 'at' },
    boundingbox: ['48.2103', '48.2105', '16.3654', '16.3656'] },
  { place_id: 113556781, licence: LICENCE, osm_type: 'way', osm_id: 26152893, lat: '48.2030', lon: '16.3692',
    category: 'amenity', type: 'cafe', place_rank: 30, importance: 0.2, addresstype: 'amenity', name: 'Café Sperl',
    display_name: 'Café Sperl, 11, Gumpendorfer Straße, Mariahilf, Wien, 1060, Österreich',
    address: { amenity: 'Café Sperl', house_number: '11', road: 'Gumpendorfer Straße', city: 'Wien', postcode: '1060',
      country: 'Österreich', country_code: 'at' },
    boundingbox: ['48.2029', '48.2031', '16.3691', '16.3693'] },
];
// Overpass's elements (out center): a node, and a way with its center; the farther one first
const OVERPASS = [
  { type: 'way', id: 39871234, center: { lat: 48.2150, lon: 16.3800 },
    tags: { amenity: 'cafe', name: 'Kaffee Fern', 'addr:street': 'Praterstraße', 'addr:housenumber': '1' } },
  { type: 'node', id: 1234567890, lat: 48.2085, lon: 16.3740,
    tags: { amenity: 'cafe', name: 'Kaffee Alt Wien', 'addr:street': 'Bäckerstraße', 'addr:housenumber': '9',
      'addr:city': 'Wien' } },
];
// A place whose name the test sets to a word of the demo model's answer.
const NAMED = { place_id: 1001, licence: LICENCE, osm_type: 'node', osm_id: 77, lat: '48.2040', lon: '16.3727',
  category: 'tourism', type: 'museum', place_rank: 30, importance: 0.1, addresstype: 'tourism', name: 'House',
  display_name: 'House, 30, Seilerstätte, Innere Stadt, Wien, 1010, Österreich', address: { road: 'Seilerstätte' },
  boundingbox: ['48.2039', '48.2041', '16.3726', '16.3728'] };
const osmUrl = (type, id) => `https://www.openstreetmap.org/${type}/${id}`;
const NOMINATIM_PLACES = NOMINATIM.map((p) => ({ name: p.name, place_id: `osm:${p.osm_type}/${p.osm_id}`,
  url: osmUrl(p.osm_type, p.osm_id) }));
const OVERPASS_PLACES = [OVERPASS[1], OVERPASS[0]].map((e) => ({ name: e.tags.name, place_id: `osm:${e.type}/${e.id}`,
  url: osmUrl(e.type, e.id) }));

let osm, osmUrlBase, mode = 'ok', overpassMode = 'ok', received = [], srv, ai;

before(async () => {
  osm = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const json = (status, v) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(v)); };
      if (req.method === 'GET' && u.pathname === '/search') {
        received.push({ api: 'nominatim', ua: req.headers['user-agent'], ...Object.fromEntries(u.searchParams) });
        if (mode === 'down') { res.writeHead(503); res.end('<html>Service Unavailable</html>'); return; }
        if (mode === 'redirect') { res.writeHead(302, { location: 'http://127.0.0.1:9/search' }); res.end(); return; }
        if (u.searchParams.get('format') !== 'jsonv2') return json(400, { error: { code: 400, message: 'Parameter \'format\' must be one of: xml, json, jsonv2, geojson, geocodejson' } });
        // bounded to a viewbox far from the places: none, as Nominatim answers
        if (u.searchParams.get('bounded') === '1' && mode === 'far') return json(200, []);
        if (mode === 'named') return json(200, [NAMED]);
        return json(200, NOMINATIM.slice(0, Number(u.searchParams.get('limit') || 10)));
      }
      if (req.method === 'POST' && u.pathname === '/api/interpreter') {
        const data = new URLSearchParams(body).get('data');
        received.push({ api: 'overpass', ua: req.headers['user-agent'], type: req.headers['content-type'], data });
        if (overpassMode === 'down') { res.writeHead(504); res.end('<html>Gateway Timeout</html>'); return; }
        return json(200, { version: 0.6, generator: 'Overpass API 0.7.62.1 084b4234',
          osm3s: { timestamp_osm_base: '2026-12-05T18:00:00Z',
            copyright: 'The data included in this document is from www.openstreetmap.org. The data is made available under ODbL.' },
          elements: overpassMode === 'empty' ? [] : OVERPASS });
      }
      res.writeHead(404); res.end();
    });
  });
  await new Promise((r) => osm.listen(0, '127.0.0.1', r));
  osmUrlBase = `http://127.0.0.1:${osm.address().port}`;
  srv = await startServer({ args: ['--maps-url', osmUrlBase, '--overpass-url', osmUrlBase, '--max-tool-steps', '2'] });
  ai = srv.client();
}, { timeout: 60_000 });
after(async () => {
  await stopAll();
  osm?.closeAllConnections?.();
  osm?.close();
});

/** The call, its result and what follows, checked; returns them. */
function checkMaps(outputs) {
  const [call, result, ...rest] = outputs;
  assert.equal(call.type, 'google_maps_call', JSON.stringify(outputs));
  assert.match(call.id, /^call_[0-9a-f]{24}$/);
  const qs = call.arguments.queries;
  assert.ok(Array.isArray(qs) && qs.length >= 1 && qs.length <= 5, JSON.stringify(call.arguments));
  for (const q of qs) assert.equal(typeof q, 'string');
  assert.equal(result.type, 'google_maps_result');
  assert.equal(result.call_id, call.id);
  assert.ok(Array.isArray(result.result));
  assert.equal(result.result.length, qs.length, 'one entry per query');
  assert.ok(rest.length >= 1, 'a model step after the result');
  return { call, result, rest };
}

/** Annotations, where any came: place_citation, byte offsets within the text, places among the results. */
function checkAnnotations(outputs) {
  const places = outputs.filter((o) => o.type === 'google_maps_result').flatMap((o) => o.result.flatMap((r) => r.places));
  for (const o of outputs.filter((x) => x.type === 'text' && x.annotations)) {
    const bytes = Buffer.byteLength(o.text, 'utf8');
    for (const a of o.annotations) {
      assert.equal(a.type, 'place_citation');
      assert.ok(a.start_index >= 0 && a.start_index < a.end_index && a.end_index <= bytes, JSON.stringify(a));
      assert.ok(places.some((p) => p.place_id === a.place_id && p.url === a.url && p.name === a.name), JSON.stringify(a));
    }
  }
}

const mapsCalls = (outputs) => outputs.filter((o) => o.type === 'google_maps_call').length;

describe('google_maps: Nominatim and Overpass', () => {
  it('the guide\'s request: call, places from Nominatim\'s jsonv2, the model again; grounding counted; kept by GET', T, async () => {
    received = [];
    const it_ = await ai.interactions.create({ model: 'demo', input: 'What is the best coffee shop near me?', tools: TOOLS,
      generation_config: CFG });
    assert.ok(ENDED.includes(it_.status), it_.status);
    const { call, result } = checkMaps(it_.outputs);
    for (const r of result.result) assert.deepEqual(r, { places: NOMINATIM_PLACES });
    assert.ok(!result.is_error);
    // no location: Nominatim only, each query as sent, jsonv2, with addresses, no viewbox, our User-Agent
    const asked = received.filter((r) => r.api === 'nominatim');
    assert.equal(received.length, asked.length, 'Overpass is asked only near a known location');
    assert.deepEqual(asked.slice(0, call.arguments.queries.length).map((r) => r.q), call.arguments.queries);
    for (const r of asked) {
      assert.equal(r.format, 'jsonv2');
      assert.equal(r.addressdetails, '1');
      assert.equal(r.limit, '5');
      assert.equal(r.viewbox, undefined);
      assert.match(r.ua, /interactd/);
    }
    assert.deepEqual(it_.usage.grounding_tool_count, [{ type: 'google_maps', count: mapsCalls(it_.outputs) }]);
    checkAnnotations(it_.outputs);
    const got = await ai.interactions.get(it_.id);
    assert.deepEqual(got.outputs, it_.outputs);
    assert.deepEqual(got.usage.grounding_tool_count, it_.usage.grounding_tool_count);
  });

  it('latitude/longitude: Overpass asked around the user, the nearest place first', T, async () => {
    received = [];
    const it_ = await ai.interactions.create({ model: 'demo', input: 'What is the best coffee shop near me?',
      tools: [{ type: 'google_maps', ...HERE, enable_widget: false }], generation_config: CFG });
    const { call, result } = checkMaps(it_.outputs);
    for (const r of result.result) assert.deepEqual(r, { places: OVERPASS_PLACES });
    const asked = received.filter((r) => r.api === 'overpass');
    assert.equal(asked.length, call.arguments.queries.length);
    for (const r of asked) {
      assert.equal(r.type, 'application/x-www-form-urlencoded');
      assert.match(r.ua, /interactd/);
      // [out:json][timeout:T];nwr[FILTER](around:R,LAT,LON);out center N;
      assert.match(r.data, /^\[out:json\]\[timeout:\d+\];nwr\[.+\]\(around:\d+,48\.208200,16\.373800\);out center \d+;$/, r.data);
    }
    assert.equal(received.filter((r) => r.api === 'nominatim').length, 0, 'Overpass had places: Nominatim not asked');
  });

  it('latitude/longitude, Overpass without places: Nominatim within a viewbox around the user, then anywhere', T, async () => {
    received = [];
    overpassMode = 'empty';
    mode = 'far';
    const it_ = await ai.interactions.create({ model: 'demo', input: 'What is the best coffee shop near me?',
      tools: [{ type: 'google_maps', ...HERE }], generation_config: CFG, store: false });
    overpassMode = 'ok';
    mode = 'ok';
    const { result } = checkMaps(it_.outputs);
    for (const r of result.result) assert.deepEqual(r, { places: NOMINATIM_PLACES });
    const asked = received.filter((r) => r.api === 'nominatim');
    const boxed = asked.filter((r) => r.bounded === '1');
    assert.ok(boxed.length >= 1, JSON.stringify(received));
    for (const r of boxed) {
      const [lon1, lat1, lon2, lat2] = r.viewbox.split(',').map(Number);
      assert.ok(lon1 < HERE.longitude && HERE.longitude < lon2 && lat1 < HERE.latitude && HERE.latitude < lat2, r.viewbox);
    }
    assert.ok(asked.some((r) => r.viewbox === undefined), 'asked again without the box');
  });

  it('an answer naming a place: a place_citation on its sentence, kept by GET, streamed as a delta', T, async () => {
    // The answer is noise that changes with what the model read: the
    // stand-in names its place after a word of the last answer until an
    // answer holds its place's name. Each time, the answer cites the place
    // exactly when it holds the name as a word.
    const ask = (stream) => ai.interactions.create({ model: 'demo', input: 'What is the best coffee shop near me?',
      tools: TOOLS, generation_config: CFG, stream });
    const hasWord = (t, w) => new RegExp(`(^|[^A-Za-z0-9\\u0080-\\uffff])${w}([^A-Za-z0-9\\u0080-\\uffff]|$)`, 'i').test(t);
    let cited = null;
    try {
      for (let i = 0; i < 6 && !cited; i++) {
        mode = 'named';
        const it_ = await ask(false);
        const texts = it_.outputs.filter((o) => o.type === 'text');
        const all = texts.map((o) => o.text).join(' ');
        for (const o of texts) assert.equal(Boolean(o.annotations), hasWord(o.text, NAMED.name), `${NAMED.name}: ${o.text}`);
        checkAnnotations(it_.outputs);
        if (texts.some((o) => o.annotations)) { cited = it_; break; }
        const words = (all.match(/(?<![A-Za-z])[A-Za-z]{4,}(?![A-Za-z])/g) || []);
        assert.ok(words.length, `a word in the answer: ${all}`);
        const count = (w) => words.filter((x) => x === w).length;
        NAMED.name = words.reduce((best, w) => (count(w) > count(best) ? w : best), words[0]);
      }
      assert.ok(cited, 'an answer named its place');
      const text = cited.outputs.find((o) => o.type === 'text' && o.annotations);
      const a = text.annotations[0];
      assert.deepEqual({ type: a.type, name: a.name, place_id: a.place_id, url: a.url },
        { type: 'place_citation', name: NAMED.name, place_id: 'osm:node/77', url: 'https://www.openstreetmap.org/node/77' });
      const range = Buffer.from(text.text, 'utf8').subarray(a.start_index, a.end_index).toString('utf8');
      assert.ok(hasWord(range, NAMED.name), range);
      assert.deepEqual((await ai.interactions.get(cited.id)).outputs, cited.outputs);
      // the same run streamed: the citations come as the text block's delta
      const events = await collect(await ask(true));
      const deltas = events.filter((e) => e.event_type === 'content.delta' && e.delta.type === 'text_annotation');
      assert.ok(deltas.length >= 1, 'the citations as a delta');
      assert.deepEqual(deltas[0].delta.annotations, text.annotations);
    } finally {
      mode = 'ok';
    }
  });

  it('Nominatim failing or redirecting elsewhere: an error result, the run goes on', T, async () => {
    for (const m of ['down', 'redirect']) {
      mode = m;
      const it_ = await ai.interactions.create({ model: 'demo', input: 'Where is the opera?', tools: TOOLS,
        generation_config: CFG, store: false });
      mode = 'ok';
      const { result } = checkMaps(it_.outputs);
      assert.equal(result.is_error, true, m);
      for (const r of result.result) assert.deepEqual(r, { places: [] });
      assert.ok(ENDED.includes(it_.status), it_.status);
    }
  });

  it('streams the call, then its result, then the answer, in order (legacy)', T, async () => {
    const events = await collect(await ai.interactions.create({ model: 'demo', input: 'Coffee near the cathedral?',
      tools: TOOLS, generation_config: CFG, stream: true }));
    const starts = events.filter((e) => e.event_type === 'content.start');
    assert.equal(starts[0].content.type, 'google_maps_call');
    assert.equal(starts[1].content.type, 'google_maps_result');
    assert.equal(starts[1].content.call_id, starts[0].content.id);
    const done = events.find((e) => e.event_type === 'interaction.complete');
    const got = await ai.interactions.get(done.interaction.id);
    assert.deepEqual(starts.map((e) => e.content.type), got.outputs.map((o) => o.type));
    assert.equal(done.interaction.usage.grounding_tool_count[0].type, 'google_maps');
    for (const a of events.filter((e) => e.event_type === 'content.delta' && e.delta.type === 'text_annotation'))
      assert.deepEqual(a.delta.annotations, got.outputs[a.index].annotations);
  });

  it('SDK 3.x (steps): the call and its result as steps, streamed in order', T, async () => {
    const ai3 = client3(srv);
    const it_ = await ai3.interactions.create({ model: 'demo', input: 'What is the best coffee shop near me?',
      tools: [{ type: 'google_maps', ...HERE }], generation_config: CFG });
    assert.ok(ENDED.includes(it_.status), it_.status);
    const steps = it_.steps.filter((s) => s.type !== 'user_input');
    const { result } = checkMaps(steps);
    for (const r of result.result) assert.deepEqual(r, { places: OVERPASS_PLACES });
    assert.deepEqual(it_.usage.grounding_tool_count, [{ type: 'google_maps', count: mapsCalls(steps) }]);
    const events = await collect(await ai3.interactions.create({ model: 'demo', input: 'Coffee?', tools: TOOLS,
      generation_config: CFG, stream: true }));
    const starts = events.filter((e) => e.event_type === 'step.start');
    assert.equal(starts[0].step.type, 'google_maps_call');
    assert.equal(starts[1].step.type, 'google_maps_result');
    assert.equal(starts[1].step.call_id, starts[0].step.id);
  });

  it('bad input: latitude without longitude, out of range, not a number, enable_widget, an unknown field', T, async () => {
    const bad = async (tool, status, re) => {
      const r = await srv.raw('POST', '/v1beta/interactions', { body: { model: 'demo', input: 'x', tools: [tool] } });
      assert.equal(r.status, status, JSON.stringify(r.json));
      assert.match(r.json.error.message, re);
    };
    await bad({ type: 'google_maps', latitude: 48.2 }, 400, /tools\[0\]\.longitude: required with latitude/);
    await bad({ type: 'google_maps', longitude: 16.3 }, 400, /tools\[0\]\.latitude: required with longitude/);
    await bad({ type: 'google_maps', latitude: 91, longitude: 0 }, 400, /tools\[0\]\.latitude: expected a number from -90 to 90/);
    await bad({ type: 'google_maps', latitude: 0, longitude: -180.5 }, 400, /tools\[0\]\.longitude: expected a number from -180 to 180/);
    await bad({ type: 'google_maps', latitude: '48.2', longitude: 16.3 }, 400, /tools\[0\]\.latitude/);
    await bad({ type: 'google_maps', enable_widget: true }, 400, /tools\[0\]\.enable_widget: the Google Maps widget is not available/);
    await bad({ type: 'google_maps', zoom: 3 }, 400, /tools\[0\]\.zoom/);
    await assert.rejects(client3(srv).interactions.create({ model: 'demo', input: 'x',
      tools: [{ type: 'google_maps', latitude: 10 }] }), (e) => e.status === 400 && /longitude/.test(e.message));
  });
});

describe('google_maps: no backend', () => {
  it('a 400 naming --maps-url and --overpass-url, in both dialects', T, async () => {
    const plain = await startServer({});
    const r = await plain.raw('POST', '/v1beta/interactions', { body: { model: 'demo', input: 'x', tools: TOOLS } });
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.match(r.json.error.message, /--maps-url/);
    assert.match(r.json.error.message, /--overpass-url/);
    await assert.rejects(client3(plain).interactions.create({ model: 'demo', input: 'x', tools: TOOLS }),
      (e) => e.status === 400 && /--maps-url/.test(e.message));
    await plain.stop();
  });
});

// A real MCP server for the mcp_server tests: the official
// @modelcontextprotocol/sdk's McpServer over its streamable HTTP transport,
// on 127.0.0.1, in the test's own process. It records what reached it
// (every HTTP request's method and headers, every tool call), so a test can
// prove that interactd really called it, with the request's headers and
// the session the server gave.
//
// Tools (their schemas are bounded — short strings, small integers — so
// that the random demo model's grammar-bound call ends):
//   add(a, b)  -> the sum, as text
//   echo(text) -> the text
//   fail()     -> throws: the SDK answers an isError result
//   sleep()    -> answers after 10 s (past a short --fetch-timeout)
// json: true answers application/json (stateless, no session); the
// default answers text/event-stream with a session id (stateful).
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

function tools(server, calls) {
  const text = (t) => ({ content: [{ type: 'text', text: String(t) }] });
  server.registerTool('add', {
    description: 'Adds two small integers.',
    inputSchema: { a: z.number().int().min(0).max(9), b: z.number().int().min(0).max(9) },
  }, async ({ a, b }) => { calls.push({ tool: 'add', args: { a, b } }); return text(a + b); });
  server.registerTool('echo', {
    description: 'Echoes a short text.',
    inputSchema: { text: z.string().max(8) },
  }, async ({ text: t }) => { calls.push({ tool: 'echo', args: { text: t } }); return text(`echo: ${t}`); });
  server.registerTool('fail', { description: 'Always fails.', inputSchema: {} }, async () => {
    calls.push({ tool: 'fail', args: {} });
    throw new Error('the fail tool failed on purpose');
  });
  server.registerTool('sleep', { description: 'Takes ten seconds.', inputSchema: {} }, async () => {
    calls.push({ tool: 'sleep', args: {} });
    await new Promise((r) => setTimeout(r, 10_000));
    return text('awake');
  });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => {
      const s = Buffer.concat(parts).toString('utf8');
      try { resolve(s ? JSON.parse(s) : undefined); } catch (e) { reject(e); }
    });
  });
}

/** Starts a server on 127.0.0.1; resolves to {port, url, calls, requests, sessions, close}. */
export async function startMcpServer({ json = false } = {}) {
  const calls = [], requests = [], sessions = new Map();
  const newTransport = async () => {
    const server = new McpServer({ name: 'e2e-tools', version: '1.0.0' });
    tools(server, calls);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: json ? undefined : () => randomUUID(),
      enableJsonResponse: json,
      onsessioninitialized: (id) => sessions.set(id, transport),
    });
    transport.onclose = () => { if (transport.sessionId) sessions.delete(transport.sessionId); };
    await server.connect(transport);
    return transport;
  };
  const srv = http.createServer(async (req, res) => {
    requests.push({ method: req.method, headers: req.headers });
    try {
      const body = req.method === 'POST' ? await readBody(req) : undefined;
      const sid = req.headers['mcp-session-id'];
      // stateful: a session's requests go to its transport; stateless: a transport per request
      const transport = !json && sid && sessions.has(sid) ? sessions.get(sid) : await newTransport();
      await transport.handleRequest(req, res, body);
    } catch (e) {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(e));
    }
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const port = srv.address().port;
  return {
    port, url: `http://127.0.0.1:${port}/mcp`, calls, requests, sessions,
    close: () => { srv.closeAllConnections?.(); srv.close(); },
  };
}

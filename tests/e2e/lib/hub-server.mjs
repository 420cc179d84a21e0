// A loopback stand-in for the Hugging Face hub, speaking the URLs and
// headers `interactd pull` uses, as the hub does:
//   GET  /api/models/OWNER/NAME/tree/main[?recursive=true] -> a JSON array of
//        {type:"file", oid, size, path, lfs:{oid: SHA-256, size, pointerSize}}
//   HEAD|GET /OWNER/NAME/resolve/main/FILE -> 302 to a CDN URL on another host
//        name, as the hub's (here http://localhost:PORT/cdn/..., the same
//        server under another name: a client must not send it the token), with x-linked-etag: "SHA-256", x-linked-size
//        and x-repo-commit, as the hub sends for LFS files
//   GET  /cdn/SHA?... -> the bytes; Range: bytes=N- answered 206 with
//        Content-Range: bytes N-M/TOTAL (Accept-Ranges: bytes)
// A repository is { files: { path: { bytes, lfs (default true), cutAt,
// corrupt } } }: cutAt drops the connection after that many bytes the first
// time the file is sent in full; corrupt sends bytes whose SHA-256 is not
// the one listed. 401 without the token when `token` is set.
import http from 'node:http';
import crypto from 'node:crypto';

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const sha1 = (b) => crypto.createHash('sha1').update(b).digest('hex');

export async function startHub(repos, { token } = {}) {
  const log = [];
  const cut = new Set();
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    log.push({ method: req.method, path: u.pathname, range: req.headers.range, auth: req.headers.authorization });
    if (token && !u.pathname.startsWith('/cdn/') && req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: 'Invalid credentials in Authorization header' }));
    }
    let m = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/main$/.exec(u.pathname);
    if (m && req.method === 'GET') {
      const repo = repos[m[1]];
      if (!repo) {
        res.writeHead(404, { 'content-type': 'application/json', 'x-error-code': 'RepoNotFound' });
        return res.end(JSON.stringify({ error: 'Repository not found' }));
      }
      const list = Object.entries(repo.files).map(([path, f]) => {
        const e = { type: 'file', oid: sha1(f.bytes), size: f.bytes.length, path };
        if (f.lfs !== false) e.lfs = { oid: sha256(f.bytes), size: f.bytes.length, pointerSize: 134 };
        return e;
      });
      list.unshift({ type: 'directory', oid: 'a'.repeat(40), size: 0, path: 'docs' });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      return res.end(JSON.stringify(list));
    }
    m = /^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(u.pathname);
    if (m && (req.method === 'GET' || req.method === 'HEAD')) {
      const f = repos[m[1]]?.files[decodeURIComponent(m[2])];
      if (!f) {
        res.writeHead(404, { 'x-error-code': 'EntryNotFound' });
        return res.end('Entry not found');
      }
      const sum = sha256(f.bytes);
      res.writeHead(302, {
        location: `http://localhost:${server.address().port}/cdn/${sum}?name=${encodeURIComponent(m[2])}&repo=${encodeURIComponent(m[1])}`,
        'x-linked-etag': `"${sum}"`, 'x-linked-size': String(f.bytes.length),
        'x-repo-commit': 'c0ffee'.padEnd(40, '0'), etag: `"${sha1(f.bytes)}"`,
      });
      return res.end();
    }
    m = /^\/cdn\/([0-9a-f]{64})$/.exec(u.pathname);
    if (m) {
      const f = repos[u.searchParams.get('repo')]?.files[u.searchParams.get('name')];
      if (!f) { res.writeHead(404); return res.end(); }
      let bytes = f.bytes;
      if (f.corrupt) { bytes = Buffer.from(bytes); bytes[bytes.length >> 1] ^= 0xff; }
      const total = bytes.length;
      const r = /^bytes=(\d+)-$/.exec(req.headers.range || '');
      const key = `${u.searchParams.get('repo')}/${u.searchParams.get('name')}`;
      if (r) {
        const start = Number(r[1]);
        if (start >= total) {
          res.writeHead(416, { 'content-range': `bytes */${total}` });
          return res.end();
        }
        res.writeHead(206, { 'content-range': `bytes ${start}-${total - 1}/${total}`, 'content-length': total - start,
          'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' });
        return res.end(bytes.subarray(start));
      }
      res.writeHead(200, { 'content-length': total, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' });
      if (f.cutAt && !cut.has(key)) {
        cut.add(key);
        res.write(bytes.subarray(0, f.cutAt), () => setTimeout(() => res.socket.destroy(), 50));
        return;
      }
      return res.end(bytes);
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, log, close: () => new Promise((r) => server.close(r)) };
}

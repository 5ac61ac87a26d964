// Serves the repository root for the browser example (node:http, no dependencies), with the
// cross-origin isolation headers that make SharedArrayBuffer available to the page.
//
//   npm run build && node examples/server/browser/serve.mjs [--port 8080] [--no-isolation]
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript' };

/** Starts the static server; resolves with { url, close() }. */
export async function serve({ port = 0, isolated = true } = {}) {
  const server = createServer((req, res) => {
    const path = normalize(join(ROOT, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!path.startsWith(ROOT) || !existsSync(path) || !statSync(path).isFile() || !(extname(path) in TYPES)) {
      res.writeHead(404).end();
      return;
    }
    const headers = { 'content-type': TYPES[extname(path)] };
    if (isolated) Object.assign(headers, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
    res.writeHead(200, headers);
    createReadStream(path).pipe(res);
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/examples/server/browser/index.html`;
  return { url, close: () => new Promise((r) => server.close(r)) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const k = args.indexOf('--port');
  const { url } = await serve({ port: k >= 0 ? Number(args[k + 1]) : 8080, isolated: !args.includes('--no-isolation') });
  console.log(`open ${url}?n=20&d=100000`);
}

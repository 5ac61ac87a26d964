// Shared by the headless-Chromium tests: where Chromium is, and a static server for a bundle.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';

/** The system Chromium (CHROMIUM_PATH, then Debian's paths), or undefined when there is none. */
export const chromiumPath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p) => p !== undefined && p !== '' && existsSync(p),
);

/**
 * Serves the plain files of `dir` (index.html at /, .js as JavaScript) on a free port of
 * 127.0.0.1. A favicon request gets 204: a 404 would be logged as a console error.
 */
export async function serveDirectory(dir: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    if (req.url === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const file = req.url === '/' ? 'index.html' : (req.url ?? '').replace(/^\//, '').split('?')[0];
    const path = join(dir, file);
    if (!/^[\w.-]+$/.test(file) || !existsSync(path)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'text/html' });
    res.end(readFileSync(path));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, origin: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}` };
}

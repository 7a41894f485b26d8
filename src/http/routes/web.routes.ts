import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { AppInstance } from '../app-instance.js';
import { sendProblem } from '../problem.js';

/** The Privacy Center's build output (`npm run build`); git-ignored, so it may be missing on a fresh clone. */
export const WEB_DIST = path.resolve(import.meta.dirname, '../../../web/dist');

// API namespaces never fall back to the page: an unknown API path must stay a problem+json 404,
// or a client would parse an HTML page as JSON.
const API_PREFIXES = ['/v1/', '/v1', '/.well-known/', '/docs', '/openapi.json', '/health', '/admin/'];

const isApiPath = (p: string): boolean => API_PREFIXES.some((prefix) => p === prefix || p.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`));

/** The file under WEB_DIST a URL path names, or undefined when it names none (or tries to climb out). */
function fileFor(urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const full = path.resolve(WEB_DIST, `.${decoded}`);
  if (!full.startsWith(WEB_DIST + path.sep)) return undefined;
  try {
    return fs.statSync(full).isFile() ? path.relative(WEB_DIST, full) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serves the Privacy Center at `/`: built files as they are, and index.html for any other GET of a
 * non-API path so that client-side routes (/devices, /consents …) survive a reload. The page loads
 * only same-origin module scripts, so the app's CSP (script-src 'self') holds without exceptions.
 */
export async function webRoutes(app: AppInstance): Promise<void> {
  // serve:false: we route ourselves (SPA fallback, API paths excluded); the plugin gives us sendFile.
  await app.register(fastifyStatic, { root: WEB_DIST, serve: false, suppressWarning: true });

  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const urlPath = request.url.split('?')[0] ?? '/';
    if (isApiPath(urlPath)) return reply.callNotFound();
    const file = fileFor(urlPath);
    if (!fs.existsSync(path.join(WEB_DIST, 'index.html'))) {
      if (path.extname(urlPath) !== '') return reply.callNotFound();
      return sendProblem(reply, 'UNAVAILABLE', 'The Privacy Center has not been built; run `npm run build`');
    }
    // Vite puts a content hash in every asset name, so those may be cached for good.
    if (file?.startsWith(`assets${path.sep}`)) return reply.sendFile(file, { maxAge: '365d', immutable: true });
    if (file && file !== 'index.html') return reply.sendFile(file, { maxAge: '1h' });
    // A path with an extension that names no file is a missing asset, not a page.
    if (!file && path.extname(urlPath) !== '') return reply.callNotFound();
    return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
  });
}

// The web app's built files (web/dist, or WEB_DIST_DIR) at `/`, with the SPA fallback: a page
// reloaded at /catalogue gets index.html and the app routes it. The API, the docs and the
// operational endpoints keep their own answers, JSON 404s included.
import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** The app's own scripts and styles only: no inline code, nothing from elsewhere, no framing. */
export const WEB_APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Paths that are never the app's, whatever the browser accepts. */
const NOT_THE_APP = /^\/(?:api|docs|openapi\.json|health|ready|metrics|assets)(?:[/?.]|$)/;

export async function registerWebApp(app: FastifyInstance): Promise<void> {
  const root = app.config.webDistDir;
  if (!existsSync(join(root, 'index.html'))) {
    app.log.info({ webDistDir: root }, 'web app not built; serving the API only');
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.code(404).send({ error: 'The web app is not built: run npm run build', code: 'not_found' }),
    );
    return;
  }

  const assets = join(root, 'assets') + sep;
  // Its own scope: the static plugin decorates replies with sendFile, as Swagger UI's does in its scope.
  await app.register(async (scope) => {
    await scope.register(fastifyStatic, {
      root,
      // Routes for the files present at start-up; anything else goes to the fallback below.
      wildcard: false,
      // The build wrote .br and .gz copies (web/vite.config.ts); a file without them is sent as is.
      preCompressed: true,
      cacheControl: false,
      setHeaders: (reply: FastifyReply, path: string) => {
        reply.header('content-security-policy', WEB_APP_CSP);
        // Built files under assets/ carry a content hash in their names: they never change.
        reply.header('cache-control', path.startsWith(assets) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
    scope.get('/*', { schema: { hide: true } }, async (request, reply) => {
      const html = /\btext\/html\b/.test(request.headers.accept ?? '');
      if (!html || NOT_THE_APP.test(request.url)) return reply.callNotFound();
      return reply.sendFile('index.html');
    });
  });
}

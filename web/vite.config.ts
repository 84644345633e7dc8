// The browser app: built to web/dist, which the service serves at /. The manifest lets
// test/web/bundle-size.test.ts measure what the customer entry loads.
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { compression } from 'vite-plugin-compression2';

const api = process.env.VITE_API_PROXY ?? 'http://localhost:3000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Brotli and gzip copies next to each text file, made once at build time: the service sends the
  // one the browser accepts (@fastify/static's preCompressed) instead of compressing per request.
  plugins: [react(), compression({ algorithms: ['brotliCompress', 'gzip'], include: /\.(?:js|css|html|svg|json)$/, threshold: 1024 })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    manifest: true,
    // The strict content security policy allows no inline script: no polyfill snippet either.
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
  // `npx vite web` during development, with the API (npm run dev) on port 3000.
  server: { proxy: { '/api': api, '/docs': api, '/openapi.json': api, '/health': api } },
});

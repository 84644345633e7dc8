// The browser app: built to web/dist, which the service serves at /. The manifest lets
// test/web/bundle-size.test.ts measure what the customer entry loads.
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const api = process.env.VITE_API_PROXY ?? 'http://localhost:3000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
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

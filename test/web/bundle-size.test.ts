// The customer part of the web app must stay light: the JavaScript its entry loads (the entry and
// its static imports, gzipped) is at most 150 KB, and the admin console is a separate chunk that
// only /admin fetches. Built here into a folder of its own, so the figure is never a stale build's.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BUDGET_BYTES = 150 * 1024;

interface Chunk {
  file: string;
  isEntry?: boolean;
  isDynamicEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
}

let outDir: string;
let manifest: Record<string, Chunk>;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'offers-web-build-'));
  // Vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: 'web/vite.config.ts', mode: 'production', logLevel: 'silent', build: { outDir, emptyOutDir: true } });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  manifest = JSON.parse(readFileSync(join(outDir, '.vite/manifest.json'), 'utf8')) as Record<string, Chunk>;
}, 120_000);

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

/** The chunk keys a page load fetches: the entry and, transitively, its static imports. */
function staticClosure(key: string, seen = new Set<string>()): Set<string> {
  if (seen.has(key)) return seen;
  seen.add(key);
  for (const imported of manifest[key]?.imports ?? []) staticClosure(imported, seen);
  return seen;
}

describe('web app bundle', () => {
  it('loads at most 150 KB of gzipped JavaScript for the customer part', () => {
    const entry = Object.entries(manifest).find(([, chunk]) => chunk.isEntry)?.[0];
    expect(entry).toBeDefined();
    const files = [...staticClosure(entry!)].map((key) => manifest[key]!.file).filter((file) => file.endsWith('.js'));
    const gzipped = files.reduce((sum, file) => sum + gzipSync(readFileSync(join(outDir, file)), { level: 9 }).length, 0);
    process.stdout.write(`customer JavaScript: ${(gzipped / 1024).toFixed(1)} KB gzipped in ${files.length} file(s) (budget 150 KB)\n`);
    expect(gzipped).toBeLessThanOrEqual(BUDGET_BYTES);
  });

  it('writes a brotli and a gzip copy of every script it emits, with the same content, for the service to send', () => {
    const scripts = Object.values(manifest).map((chunk) => chunk.file).filter((file) => file.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(1);
    for (const file of scripts) {
      const original = readFileSync(join(outDir, file));
      if (original.length < 1024) continue;
      expect(brotliDecompressSync(readFileSync(join(outDir, `${file}.br`))).equals(original), file).toBe(true);
      expect(gunzipSync(readFileSync(join(outDir, `${file}.gz`))).equals(original), file).toBe(true);
    }
  });

  it('keeps the admin console in a chunk of its own, loaded on demand', () => {
    const admin = Object.entries(manifest).find(([key]) => key.endsWith('admin/AdminApp.tsx'));
    expect(admin?.[1].isDynamicEntry).toBe(true);
    const entry = Object.entries(manifest).find(([, chunk]) => chunk.isEntry)![0];
    expect(staticClosure(entry).has(admin![0])).toBe(false);
  });
});

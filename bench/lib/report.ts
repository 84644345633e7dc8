// Tables for the terminal, bench/results/<mode>.{json,md}, and the README's Performance section.
import { cpus, loadavg, totalmem } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface Row {
  config: string;
  name: string;
  rps: number;
  /** Milliseconds; undefined where a latency makes no sense (end-to-end completion). */
  p50?: number | undefined;
  p99?: number | undefined;
  errors: number;
  non2xx: number;
  baseline?: string | undefined;
  ratio?: number | undefined;
  note?: string | undefined;
}

export interface Target {
  target: string;
  figure: string;
  met: boolean | undefined;
}

export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  date: string;
  loadBefore: number[];
  loadAfter?: number[];
}

export interface ModeResult {
  mode: 'embedded' | 'postgres';
  description: string;
  machine: Machine;
  settings: Record<string, string | number>;
  timings: Record<string, number>;
  rows: Row[];
  rssMb: Record<string, Record<string, number>>;
  targets: Target[];
}

export function machine(): Machine {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    date: new Date().toISOString(),
    loadBefore: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

const num = (n: number | undefined, digits = 1) => (n === undefined ? '–' : n.toFixed(digits));
const ratio = (r: Row) => (r.ratio === undefined ? '' : `${r.ratio.toFixed(2)} × ${r.baseline}`);

const COLUMNS = ['config', 'scenario', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'ratio to baseline'];

function cells(r: Row): string[] {
  return [r.config, r.name + (r.note ? ` (${r.note})` : ''), num(r.rps, 0), num(r.p50, 2), num(r.p99, 2), String(r.errors), String(r.non2xx), ratio(r)];
}

export function textTable(rows: Row[]): string {
  const all = [COLUMNS, ...rows.map(cells)];
  const widths = COLUMNS.map((_, i) => Math.max(...all.map((c) => c[i]!.length)));
  const numeric = new Set([2, 3, 4, 5, 6]);
  return all
    .map((c) => c.map((v, i) => (numeric.has(i) ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

export function targetText(targets: Target[]): string {
  return targets.map((t) => `${t.met === undefined ? '   ' : t.met ? 'MET' : 'NOT'}  ${t.target}: ${t.figure}`).join('\n');
}

export function markdown(result: ModeResult): string {
  const m = result.machine;
  const settings = Object.entries(result.settings).map(([k, v]) => `${k} ${v}`).join(', ');
  const lines = [
    `### ${result.description}`,
    '',
    `${m.date.slice(0, 16).replace('T', ' ')} UTC · ${m.cores} cores (${m.cpu}) · ${m.memoryGiB} GiB RAM · Node ${m.node} · ` +
      `load average before/after ${m.loadBefore[0]}/${m.loadAfter?.[0] ?? '?'}`,
    '',
    `Settings: ${settings}.`,
    '',
    `| ${COLUMNS.join(' | ')} |`,
    `|${COLUMNS.map((_, i) => (i >= 2 && i <= 6 ? '---:' : '---')).join('|')}|`,
    ...result.rows.map((r) => `| ${cells(r).join(' | ')} |`),
    '',
    '| target | figure | met |',
    '|---|---|---|',
    ...result.targets.map((t) => `| ${t.target} | ${t.figure} | ${t.met === undefined ? '–' : t.met ? 'yes' : '**no**'} |`),
    '',
    `Peak RSS: ${Object.entries(result.rssMb)
      .map(([config, procs]) => `${config}: ${Object.entries(procs).map(([p, mb]) => `${p} ${mb} MB`).join(', ')}`)
      .join('; ')}.`,
    '',
  ];
  return lines.join('\n');
}

export function writeResults(dir: string, result: ModeResult): void {
  writeFileSync(`${dir}/${result.mode}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${dir}/${result.mode}.md`, markdown(result));
}

const SECTION = '## Performance';

/** Replaces the README's Performance section (up to the next `## ` heading) and nothing else. */
export function updateReadme(readmePath: string, resultsDir: string): void {
  const tables = ['postgres', 'embedded']
    .map((mode) => `${resultsDir}/${mode}.md`)
    .filter((file) => existsSync(file))
    .map((file) => readFileSync(file, 'utf8').trim());
  const section = [
    SECTION,
    '',
    'Measured by `npm run bench` (PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 for the',
    'postgres mode): `npm run bench -- --mode embedded` or `--mode postgres`; both by default, one after',
    'the other, in about 13 minutes. It builds the service, seeds a fresh database with bench/seed.ts',
    '(10,000 users, 20 offers, one user with 1,000,000 transactions and one with 1,000), starts the',
    'service as separate processes and drives it with autocannon at 32 connections (a warm-up, then a',
    'fixed duration per row; `--duration`, `--warmup`, `--connections`, `--e2e N` change them, and',
    '`--cpu-prof` writes CPU profiles of the service processes to `bench/.work/profiles/`). Every',
    'figure is a ratio to a baseline measured in the same run: a bare Fastify server answering the same',
    'offer list from memory (measured at the start and at the end of each mode; ratios use the mean),',
    'and the activation charge transaction issued directly through `pg` with',
    'the same pool size (through PGlite in-process for the embedded mode). End-to-end counts activations',
    'submitted until all of them are `SUCCESS` (partner simulator at 0 ms). History rows compare the',
    'user with 1,000,000 transactions with the one with 1,000; deep pages are reached by following',
    '`next` cursors. The metrics rows measure the offer list on services started alternately with',
    'metrics off and on (`METRICS_TOKEN` set, scraped every second), twice each; `--only-metrics` runs',
    'that step alone after seeding (try a small `--users 200 --history 1000`) and writes no results;',
    '`--only-activation` does the same for the charge baseline and the activation rows.',
    'Results: `bench/results/<mode>.json` and `.md`.',
    '',
    ...tables.flatMap((t) => [t, '']),
  ].join('\n');
  const readme = existsSync(readmePath) ? readFileSync(readmePath, 'utf8') : '';
  const start = readme.indexOf(`\n${SECTION}\n`);
  if (start === -1) {
    writeFileSync(readmePath, `${readme.trimEnd()}${readme ? '\n\n' : ''}${section}`);
    return;
  }
  const after = readme.indexOf('\n## ', start + SECTION.length + 1);
  const rest = after === -1 ? '' : readme.slice(after + 1);
  writeFileSync(readmePath, `${readme.slice(0, start + 1)}${section}${rest ? `\n${rest}` : ''}`);
}

export function finishMachine(m: Machine): void {
  m.loadAfter = loadavg().map((l) => Math.round(l * 100) / 100);
}

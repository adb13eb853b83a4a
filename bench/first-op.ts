/**
 * @file First-op latency: fresh Node processes, each timing its import of widthscope, device
 * creation ("device ready"), the first small op with its readback (add of two [4] tensors) and
 * a second, different op (exp of a [4] tensor, another kernel module). Every run starts one
 * process per setting, in turn, from an empty cache directory:
 *   cold          first process ever: empty widthscope cache and an empty Mesa shader cache
 *   warm          the caches the cold process left
 *   warm, no disk cache   WIDTHSCOPE_PIPELINE_CACHE=0 (kernels reflected again)
 *   warm, no warming      WIDTHSCOPE_WARM=0 (no background pipeline compiles)
 *   warm, idle 150 ms     the first op 150 ms after device ready (background warming has time)
 * and the table gives each setting's median over runs, and cold / warm per run (median).
 *
 *   npx tsx bench/first-op.ts [--runs 7] [--breakdown] [--out FILE]
 *
 * --breakdown adds the first op's phases: reflection (disk cache or wgsl_reflect), shader module
 * (Dawn's WGSL front end), layouts, pipeline compile, the rest of recording the dispatch, submit,
 * and readback (GPU work and the wait). Results: bench/results/first-op-<adapter>.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { median } from './harness.js';

interface Phases {
  reflect: number;
  module: number;
  layout: number;
  pipeline: number;
  record: number;
  submit: number;
  readback: number;
}

interface ChildResult {
  adapter: string;
  importMs: number;
  deviceMs: number;
  firstMs: number;
  secondMs: number;
  first: Phases;
  reflectorLoaded: boolean;
  warmUsed: number;
  warmRaced: number;
}

const SETTINGS = [
  { name: 'cold', env: {}, fresh: true, idleMs: 0 },
  { name: 'warm', env: {}, fresh: false, idleMs: 0 },
  { name: 'warm, no disk cache', env: { WIDTHSCOPE_PIPELINE_CACHE: '0' }, fresh: false, idleMs: 0 },
  { name: 'warm, no warming', env: { WIDTHSCOPE_WARM: '0' }, fresh: false, idleMs: 0 },
  { name: 'warm, idle 150 ms', env: {}, fresh: false, idleMs: 150 },
] as const;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    breakdown: { type: 'boolean', default: false },
    out: { type: 'string' },
    child: { type: 'boolean', default: false },
    'idle-ms': { type: 'string', default: '0' },
  },
});

if (values.child) await child(Number(values['idle-ms']));
else parent();

/** One fresh process's measurement, printed as a JSON line. */
async function child(idleMs: number): Promise<void> {
  const t0 = performance.now();
  const ws = await import('../src/index.js');
  const { reflectorLoaded } = await import('../src/tensor/reflect.js');
  const t1 = performance.now();
  const dev = await ws.init();
  const t2 = performance.now();
  if (idleMs > 0) await new Promise((r) => setTimeout(r, idleMs));
  const prof = dev.kernels.profile;
  const before = { ...prof };
  const t3 = performance.now();
  const a = ws.raw.fromArray([1, 2, 3, 4]);
  const b = ws.raw.fromArray([10, 20, 30, 40]);
  const c = ws.raw.add(a, b);
  const t4 = performance.now();
  const after = { ...prof };
  dev.flush();
  const t5 = performance.now();
  const sum = await c.data();
  const t6 = performance.now();
  const e = ws.raw.exp(a);
  const ex = await e.data();
  const t7 = performance.now();
  if (Array.from(sum).join() !== '11,22,33,44') throw new Error(`first-op: add gave ${Array.from(sum).join()}`);
  if (Math.abs(ex[3] - Math.exp(4)) > 1e-4 * Math.exp(4)) throw new Error(`first-op: exp gave ${Array.from(ex).join()}`);
  const reflect = after.reflectMs - before.reflectMs;
  const module = after.moduleMs - before.moduleMs;
  const layout = after.layoutMs - before.layoutMs;
  const pipeline = after.pipelineMs - before.pipelineMs;
  const out: ChildResult = {
    adapter: dev.adapterSlug,
    importMs: t1 - t0,
    deviceMs: t2 - t1,
    firstMs: t6 - t3,
    secondMs: t7 - t6,
    first: { reflect, module, layout, pipeline, record: t4 - t3 - reflect - module - layout - pipeline, submit: t5 - t4, readback: t6 - t5 },
    reflectorLoaded: reflectorLoaded(),
    warmUsed: prof.warmUsed,
    warmRaced: prof.warmRaced,
  };
  ws.shutdown();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function runChild(env: Record<string, string>, idleMs: number): ChildResult {
  const script = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [...process.execArgv, script, '--child', '--idle-ms', String(idleMs)], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) {
    throw new Error(`first-op: a measuring process failed (status ${r.status}):\n${r.stderr}${r.stdout}`);
  }
  return JSON.parse(line) as ChildResult;
}

function parent(): void {
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: expected an integer >= 1, got '${values.runs}'`);
  const results = new Map<string, ChildResult[]>(SETTINGS.map((s) => [s.name, []]));
  for (let run = 0; run < runs; run++) {
    const root = mkdtempSync(join(tmpdir(), 'widthscope-first-op-'));
    const env = { XDG_CACHE_HOME: join(root, 'cache'), MESA_SHADER_CACHE_DIR: join(root, 'mesa') };
    try {
      for (const s of SETTINGS) {
        if (s.fresh) rmSync(root, { recursive: true, force: true });
        mkdirSync(root, { recursive: true });
        results.get(s.name)!.push(runChild({ ...env, ...s.env }, s.idleMs));
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    process.stderr.write(`run ${run + 1}/${runs}\n`);
  }
  const f = (x: number) => x.toFixed(1).padStart(8);
  const rows = SETTINGS.map((s) => {
    const rs = results.get(s.name)!;
    return {
      setting: s.name,
      importMs: median(rs.map((r) => r.importMs)),
      deviceMs: median(rs.map((r) => r.deviceMs)),
      firstMs: median(rs.map((r) => r.firstMs)),
      secondMs: median(rs.map((r) => r.secondMs)),
      first: Object.fromEntries(
        (Object.keys(rs[0].first) as (keyof Phases)[]).map((k) => [k, median(rs.map((r) => r.first[k]))]),
      ) as unknown as Phases,
      reflectorLoaded: rs.filter((r) => r.reflectorLoaded).length,
      warmUsed: median(rs.map((r) => r.warmUsed)),
    };
  });
  console.log(`first op: add of two [4] tensors + readback; second op: exp of [4] + readback (median of ${runs} runs, ms)`);
  console.log(`${'setting'.padEnd(22)}  import  device   first  second  wgsl_reflect loaded`);
  for (const r of rows) {
    console.log(`${r.setting.padEnd(22)}${f(r.importMs)}${f(r.deviceMs)}${f(r.firstMs)}${f(r.secondMs)}  ${r.reflectorLoaded}/${runs}`);
  }
  const cold = results.get('cold')!;
  const warm = results.get('warm')!;
  const ratio = (k: 'firstMs' | 'secondMs' | 'deviceMs') => median(cold.map((c, i) => c[k] / warm[i][k]));
  console.log(`cold / warm (per run, median): first ${ratio('firstMs').toFixed(2)}x, second ${ratio('secondMs').toFixed(2)}x, device ${ratio('deviceMs').toFixed(2)}x`);
  if (values.breakdown) {
    console.log('\nfirst op, by phase (median ms):');
    const keys = Object.keys(rows[0].first) as (keyof Phases)[];
    console.log(`${'setting'.padEnd(22)}${keys.map((k) => k.padStart(9)).join('')}`);
    for (const r of rows) console.log(`${r.setting.padEnd(22)}${keys.map((k) => r.first[k].toFixed(1).padStart(9)).join('')}`);
  }
  const here = dirname(fileURLToPath(import.meta.url));
  const file = values.out ?? join(here, 'results', `first-op-${cold[0].adapter}.json`);
  writeFileSync(file, `${JSON.stringify({ runs, rows, perRun: Object.fromEntries(results) }, null, 1)}\n`);
  console.log(`\nwrote ${file}`);
}

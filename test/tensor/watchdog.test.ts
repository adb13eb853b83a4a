// The hang watchdog (src/tensor/watchdog.ts): a child whose main thread blocks in a native call is
// killed, with its stacks and file recorded; a child that keeps its event loop running is not.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

function child(body: string, dir: string) {
  const code = `
    import { startWatchdog } from ${JSON.stringify(join(__dirname, '..', '..', 'src', 'tensor', 'watchdog.ts'))};
    import { execFileSync } from 'node:child_process';
    const wd = startWatchdog('fixture.test.ts', 2);
    wd.setTest('the fixture test');
    ${body}
  `;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', code], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, WIDTHSCOPE_HANG_DIR: dir },
  });
}

describe('hang watchdog', () => {
  test('kills a process blocked in a native call and records the file, the test and the stacks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-hang-'));
    const r = child(`execFileSync('sleep', ['30']); console.log('survived');`, dir);
    // (137: a wrapper that reports its killed child's signal as a status)
    expect(r.signal === 'SIGKILL' || r.status === 137, `signal ${r.signal}, status ${r.status}`).toBe(true);
    expect(r.stdout).not.toContain('survived');
    expect(r.stderr).toContain('fixture.test.ts > the fixture test: the main thread has not run for');
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    const record = readFileSync(join(dir, files[0]), 'utf8');
    expect(record.split('\n')[0]).toBe('file: fixture.test.ts');
    expect(record).toMatch(/Thread 1 |gdb: /);
  }, 90_000);

  test('leaves alone a process whose event loop runs, and lets it exit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-hang-'));
    const r = child(`setTimeout(() => { console.log('done'); wd.stop(); }, 3500);`, dir);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('done');
    expect(readdirSync(dir)).toHaveLength(0);
  }, 90_000);
});

/**
 * @file Progress display for a sweep: an overall bar (runs, ETA) and one bar for the current job
 * (step, ETA, loss) via cli-progress on a TTY; plain log lines otherwise.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  startJob(label: string, steps: number): void;
  step(step: number, loss?: number): void;
  endJob(label: string, status: string): void;
  log(line: string): void;
  stop(): void;
}

export function createProgress(totalJobs: number, opts: { enabled?: boolean; log?: (line: string) => void; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const log = opts.log ?? ((line: string) => stream.write(`${line}\n`));
  const enabled = (opts.enabled ?? true) && stream.isTTY === true;
  if (!enabled) {
    let done = 0;
    return {
      startJob: (label) => log(`[${done + 1}/${totalJobs}] ${label}`),
      step: () => {},
      endJob: (label, status) => { done++; log(`[${done}/${totalJobs}] ${label}: ${status}`); },
      log,
      stop: () => {},
    };
  }
  const multi = new cliProgress.MultiBar({
    stream,
    clearOnComplete: false,
    hideCursor: true,
    format: '{name} [{bar}] {value}/{total} | ETA {eta_formatted} | {info}',
    etaBuffer: 50,
  }, cliProgress.Presets.shades_classic);
  const overall = multi.create(totalJobs, 0, { name: 'sweep  ', info: '' });
  let job: cliProgress.SingleBar | undefined;
  let done = 0;
  return {
    startJob(label, steps) {
      job?.stop();
      if (job) multi.remove(job);
      job = multi.create(steps, 0, { name: 'job    ', info: label });
      overall.update(done, { info: label });
    },
    step(step, loss) {
      job?.update(step, loss === undefined ? {} : { info: `loss ${loss.toPrecision(4)}` });
    },
    endJob(label, status) {
      done++;
      overall.update(done, { info: `${label}: ${status}` });
    },
    log: (line) => multi.log(`${line}\n`),
    stop() {
      multi.stop();
    },
  };
}

import { Worker } from 'node:worker_threads';
import { passwordStrength } from '../../src/index.js';

/**
 * zxcvbn on adversarial inputs: the shield's bounded `passwordStrength` against raw zxcvbn on
 * the same strings. Raw runs happen in a worker thread that is terminated after `rawCapMs`,
 * so a pathological input cannot stall the benchmark; once a family exceeds the cap, longer
 * inputs of that family are not tried raw.
 */
export interface ZxcvbnRow {
  readonly family: string;
  readonly length: number;
  /** Milliseconds, median of a few runs. */
  readonly boundedMs: number;
  /** Milliseconds of one raw run; null when it was stopped at the cap or skipped. */
  readonly rawMs: number | null;
  readonly rawNote?: string;
}

/** The substitutable characters zxcvbn's l33t matcher expands, most expensive input known. */
const L33T = '4@8(6#1!0$5+7%2|{[<93';

export const FAMILIES: readonly { name: string; make: (n: number) => string }[] = [
  { name: 'l33t symbols `4@8(6#1!0$5+7%2|{[<93`…', make: (n) => L33T.repeat(Math.ceil(n / L33T.length)).slice(0, n) },
  { name: 'repetitive `aaaa…`', make: (n) => 'a'.repeat(n) },
  { name: 'repetitive `Pa$$w0rd` × k', make: (n) => 'Pa$$w0rd'.repeat(Math.ceil(n / 8)).slice(0, n) },
  { name: 'unicode `пароль🔐ü` × k', make: (n) => Array.from('пароль🔐ü'.repeat(n)).slice(0, n).join('') },
  { name: 'keyboard walk `qwertyuiop…`', make: (n) => 'qwertyuiopasdfghjklzxcvbnm1234567890'.repeat(Math.ceil(n / 36)).slice(0, n) },
];

const WORKER = `
const { parentPort } = require('node:worker_threads');
const zxcvbn = require(${JSON.stringify(require_resolve_zxcvbn())});
parentPort.on('message', (password) => {
  const started = performance.now();
  zxcvbn(password);
  parentPort.postMessage(performance.now() - started);
});
`;

function require_resolve_zxcvbn(): string {
  return new URL('../../node_modules/zxcvbn/lib/main.js', import.meta.url).pathname;
}

async function rawOnce(password: string, capMs: number): Promise<number | null> {
  const worker = new Worker(WORKER, { eval: true });
  try {
    // Warm the worker (module load, JIT) on a trivial input first.
    await ask(worker, 'warm-up', 10_000);
    return await ask(worker, password, capMs);
  } finally {
    await worker.terminate();
  }
}

function ask(worker: Worker, password: string, capMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(null), capMs);
    worker.once('message', (ms: number) => {
      clearTimeout(timer);
      resolve(ms);
    });
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    worker.postMessage(password);
  });
}

function boundedMs(password: string): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    passwordStrength(password, ['alice.smith@example.com', 'alice', 'smith'], { maxLength: 20 });
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[2] as number;
}

export async function zxcvbnWorstCase(lengths: readonly number[], rawCapMs: number): Promise<ZxcvbnRow[]> {
  const rows: ZxcvbnRow[] = [];
  passwordStrength('warm-up', [], { maxLength: 20 });
  for (const family of FAMILIES) {
    let stopped = false;
    for (const length of lengths) {
      const password = family.make(length);
      const bounded = boundedMs(password);
      if (stopped) {
        rows.push({ family: family.name, length, boundedMs: bounded, rawMs: null, rawNote: 'not run: a shorter input already took over half the cap' });
        continue;
      }
      const raw = await rawOnce(password, rawCapMs);
      if (raw === null) stopped = true;
      rows.push({ family: family.name, length, boundedMs: bounded, rawMs: raw, rawNote: raw === null ? `stopped at ${rawCapMs} ms` : undefined });
      // Exponential growth: when this length is already over half the cap, the next would not fit.
      if (raw !== null && raw > rawCapMs / 2) stopped = true;
    }
  }
  return rows;
}

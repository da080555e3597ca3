/**
 * Build progress on a terminal: one redrawn line with bar, rate and ETA (from bytes read
 * against the inputs' total size). When stderr is not a terminal (CI, a log file) nothing is
 * drawn; the command prints its one summary line at the end instead.
 */
import type { BuildProgress } from '../corpus/corpus-builder.js';
import { formatCount } from './common.js';

const REDRAW_MS = 200;
const BAR_WIDTH = 24;

export interface ProgressReporter {
  update(progress: BuildProgress): void;
  /** Clears the line (so the summary starts on a clean one). */
  finish(): void;
}

export function createProgressReporter(stream: NodeJS.WriteStream, noun: string): ProgressReporter {
  if (!stream.isTTY) return { update: () => {}, finish: () => {} };
  let lastDraw = 0;
  let drawn = false;
  return {
    update(progress) {
      const now = Date.now();
      if (progress.phase === 'reading' && now - lastDraw < REDRAW_MS) return;
      lastDraw = now;
      drawn = true;
      const columns = stream.columns ?? 100;
      stream.write(`\r${formatProgress(progress, now, noun).slice(0, columns - 1)}\x1b[K`);
    },
    finish() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}

/** The progress line for `progress` at time `now` (pure, for tests). */
export function formatProgress(progress: BuildProgress, now: number, noun = 'records'): string {
  const elapsedSec = Math.max((now - progress.startedAt) / 1000, 0.001);
  if (progress.phase === 'building') return `building filter over ${formatCount(progress.records)} ${noun}…`;
  if (progress.phase === 'writing') return 'writing corpus file…';
  if (progress.phase === 'done') return 'done';
  const rate = `${formatRate(progress.records / elapsedSec)} ${noun}/s`;
  const records = `${formatCount(progress.records)} ${noun}`;
  const { bytesRead, totalBytes } = progress;
  if (totalBytes === null || totalBytes === 0) {
    return `${formatBytes(bytesRead)} read  ${records}  ${rate}`;
  }
  const fraction = Math.min(bytesRead / totalBytes, 1);
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
  const bytesPerSec = bytesRead / elapsedSec;
  const eta = bytesPerSec > 0 ? formatDuration((totalBytes - bytesRead) / bytesPerSec) : '?';
  const percent = `${(fraction * 100).toFixed(1)}%`;
  return `${bar} ${percent}  ${formatBytes(bytesRead)}/${formatBytes(totalBytes)}  ${records}  ${rate}  ETA ${eta}`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function formatRate(perSec: number): string {
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(2)}M`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toFixed(1)}k`;
  return perSec.toFixed(0);
}

export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgressReporter, formatDuration, formatProgress } from '../../src/cli/progress.js';
import type { BuildProgress } from '../../src/corpus/corpus-builder.js';

const start = 1_000_000;
const reading = (bytesRead: number, totalBytes: number | null, records: number): BuildProgress => ({
  phase: 'reading',
  bytesRead,
  totalBytes,
  records,
  startedAt: start,
});

describe('formatProgress', () => {
  it('shows bar, percentage, rate and ETA from bytes read against the total', () => {
    // 25 MB of 100 MB in 10 s → 30 s left.
    const line = formatProgress(reading(25e6, 100e6, 1_000_000), start + 10_000, 'lines');
    expect(line).toBe('[######..................] 25.0%  25.0 MB/100.0 MB  1,000,000 lines  100.0k lines/s  ETA 0:30');
  });

  it('shows volume and rate only when the total is unknown (stdin)', () => {
    expect(formatProgress(reading(2048, null, 10), start + 1000, 'lines')).toBe('2.0 kB read  10 lines  10 lines/s');
  });

  it('names the phases after reading', () => {
    const building = { ...reading(1, 1, 1234), phase: 'building' as const };
    expect(formatProgress(building, start, 'lines')).toBe('building filter over 1,234 lines…');
  });

  it('formats durations', () => {
    expect(formatDuration(59.6)).toBe('1:00');
    expect(formatDuration(3725)).toBe('1:02:05');
  });
});

describe('createProgressReporter', () => {
  function stream(isTTY: boolean) {
    const s = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
    s.isTTY = isTTY;
    s.columns = 200;
    let written = '';
    s.on('data', (chunk: Buffer) => {
      written += chunk.toString();
    });
    return { s: s as unknown as NodeJS.WriteStream, written: () => written };
  }

  it('draws on a terminal and clears the line at the end', async () => {
    const { s, written } = stream(true);
    const reporter = createProgressReporter(s, 'lines');
    reporter.update(reading(50, 100, 5));
    reporter.update(reading(60, 100, 6)); // within the redraw interval: skipped
    reporter.finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(written()).toMatch(/^\r\[#{12}\.{12}\] 50\.0% .*\x1b\[K\r\x1b\[K$/);
  });

  it('stays silent when not a terminal', async () => {
    const { s, written } = stream(false);
    const reporter = createProgressReporter(s, 'lines');
    reporter.update(reading(50, 100, 5));
    reporter.finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(written()).toBe('');
  });
});

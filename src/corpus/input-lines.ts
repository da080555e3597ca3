/**
 * Streams lines out of a dump with bounded memory: one read chunk plus one line at a time,
 * whatever the file size, and a cap on line length so a binary file or a dump without
 * newlines cannot grow a string without limit.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

export const MAX_LINE_LENGTH = 64 * 1024;

export interface ReadLinesOptions {
  /** Called after each chunk with the number of bytes it held (for progress and ETA). */
  readonly onBytes?: (bytes: number) => void;
  readonly maxLineLength?: number;
}

/**
 * Yields each line without its `\n` / `\r\n`, or `null` for a line longer than the cap
 * (the caller counts it as invalid; its content is never kept).
 */
export async function* readLines(
  input: string | Readable,
  options: ReadLinesOptions = {},
): AsyncGenerator<string | null, void, undefined> {
  const maxLineLength = options.maxLineLength ?? MAX_LINE_LENGTH;
  const stream = typeof input === 'string' ? createReadStream(input, { highWaterMark: 1 << 20 }) : input;
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let discarding = false;
  let first = true;

  const emit = function* (line: string): Generator<string | null> {
    let text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (first) {
      first = false;
      if (text.startsWith('\uFEFF')) text = text.slice(1);
    }
    yield text.length > maxLineLength ? null : text;
  };

  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      if (discarding) {
        discarding = false;
      } else {
        yield* emit(pending + text.slice(start, newline));
      }
      pending = '';
      start = newline + 1;
    }
    if (!discarding) {
      pending += text.slice(start);
      if (pending.length > maxLineLength) {
        pending = '';
        discarding = true;
        first = false;
        yield null;
      }
    }
    options.onBytes?.(bytes);
  }
  const rest = pending + decoder.end();
  if (!discarding && rest.length > 0) yield* emit(rest);
}

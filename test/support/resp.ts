import { connect } from 'node:net';

/**
 * A one-shot RESP2 client for the harness: checking readiness, reading INFO and driving a
 * server the test owns, without going through (and disturbing the counts of) the client under
 * test, and without ioredis reconnecting in the background.
 */
export type RespValue = string | number | null | RespError | RespValue[];

export class RespError extends Error {
  override readonly name = 'RespError';
}

export function redisCommand(
  port: number,
  args: readonly (string | number)[],
  options: { host?: string; timeoutMs?: number } = {},
): Promise<RespValue> {
  const { host = '127.0.0.1', timeoutMs = 2000 } = options;
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buffer = Buffer.alloc(0);
    const finish = (error: Error | undefined, value?: RespValue) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(value ?? null);
    };
    const timer = setTimeout(() => finish(new Error(`redis :${port} ${args[0]} timed out`)), timeoutMs);
    socket.on('error', (error) => finish(error));
    socket.on('connect', () => socket.write(encode(args)));
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      const parsed = parse(buffer, 0);
      if (parsed) finish(undefined, parsed[0]);
    });
    socket.on('close', () => finish(new Error(`redis :${port} closed the connection`)));
  });
}

/** Like `redisCommand`, but an error reply rejects. */
export async function redisCall(port: number, ...args: (string | number)[]): Promise<RespValue> {
  const reply = await redisCommand(port, args);
  if (reply instanceof RespError) throw reply;
  return reply;
}

export function encode(args: readonly (string | number)[]): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) {
    const text = String(arg);
    parts.push(`$${Buffer.byteLength(text)}\r\n${text}\r\n`);
  }
  return Buffer.from(parts.join(''));
}

/** Parses one reply at `offset`; undefined when the buffer does not hold all of it yet. */
export function parse(buffer: Buffer, offset: number): [RespValue, number] | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd === -1) return undefined;
  const type = String.fromCharCode(buffer[offset] ?? 0);
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return [line, next];
    case '-':
      return [new RespError(line), next];
    case ':':
      return [Number(line), next];
    case '$': {
      const length = Number(line);
      if (length < 0) return [null, next];
      if (buffer.length < next + length + 2) return undefined;
      return [buffer.toString('utf8', next, next + length), next + length + 2];
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return [null, next];
      const items: RespValue[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buffer, at);
        if (!item) return undefined;
        items.push(item[0]);
        at = item[1];
      }
      return [items, at];
    }
    default:
      throw new Error(`unexpected RESP type ${JSON.stringify(type)}`);
  }
}

/** `INFO <section>` as a map of field → value. */
export async function redisInfo(port: number, section: string): Promise<Map<string, string>> {
  const text = await redisCall(port, 'INFO', section);
  const fields = new Map<string, string>();
  for (const line of String(text).split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** Calls per command from `INFO commandstats` (e.g. `{ get: 12, pttl: 4 }`). */
export async function commandCalls(port: number): Promise<Record<string, number>> {
  const calls: Record<string, number> = {};
  for (const [field, value] of await redisInfo(port, 'commandstats')) {
    const match = /^calls=(\d+)/.exec(value);
    if (field.startsWith('cmdstat_') && match) calls[field.slice('cmdstat_'.length)] = Number(match[1]);
  }
  return calls;
}

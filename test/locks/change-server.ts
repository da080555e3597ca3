import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo, connect, createServer as createNetServer, type Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import express, { type Express, type Request } from 'express';
import { createShield, type LockReason, type Shield, type Store } from '../../src/index.js';
import { createRedisStoreFromUrl } from '../../src/stores/redis.js';

/**
 * A small app using the shield over Redis whose one password lives in a file written with
 * fsync, so a test can kill it (SIGKILL) at any step of a password change and then see, from
 * another process, whether the change happened. `KILL_AT` names the step at which the process
 * kills itself: the kill is a real SIGKILL at that exact point, not a simulated one.
 */

export const USER_ID = 'user-1';
export const TOKEN = 'session-token-of-user-1';
export const OLD_PASSWORD = 'first-Passphrase-of-user-1';
export const NEW_PASSWORD = 'second-Passphrase-quietly-58';

export type KillPoint =
  | 'before-hold'
  | 'after-hold'
  | 'after-change'
  | 'before-lock'
  | 'after-lock'
  | 'after-settle'
  | 'after-response';

export interface ChangeServerOptions {
  redisUrl: string;
  secret: string;
  /** File holding the current password; created with the old one if missing. */
  stateFile: string;
  killAt?: KillPoint;
  /**
   * Reach Redis through a proxy that stops forwarding as the app's handler starts: the store
   * stalls mid-change, and what the process sent meanwhile dies with it.
   */
  stall?: boolean;
  /** Shift the shield's clock, to look at the lock state hours from now. */
  clockOffsetMs?: number;
  commandTimeoutMs?: number;
  /** Redis key prefix, so each run of a test starts from an empty state. */
  prefix?: string;
}

export function readPassword(stateFile: string): string {
  return existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as { password: string }).password : OLD_PASSWORD;
}

/** Written and fsynced before the handler answers: a change that returned is on disk. */
function writePassword(stateFile: string, password: string): void {
  const fd = openSync(stateFile, 'w');
  try {
    writeSync(fd, JSON.stringify({ password }));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const die = () => process.kill(process.pid, 'SIGKILL');

/** The Redis store, with the kill points around the two lock records a change writes. */
function killingStore(inner: Store, options: ChangeServerOptions): Store {
  const at = options.killAt;
  return new Proxy(inner, {
    get(target, property) {
      if (property === 'extendLock') {
        return async (key: string, reason: LockReason, now: number, maxReasons: number) => {
          const isHold = key.startsWith('holds:') && reason.kind !== 'settled';
          const isSettle = key.startsWith('holds:') && reason.kind === 'settled';
          const isLock = key.startsWith('lock:');
          if ((isHold && at === 'before-hold') || (isLock && at === 'before-lock')) die();
          const record = await target.extendLock(key, reason, now, maxReasons);
          if ((isHold && at === 'after-hold') || (isLock && at === 'after-lock') || (isSettle && at === 'after-settle')) die();
          return record;
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** A TCP proxy to Redis that, once `stalled`, keeps what the client sends instead of forwarding it. */
async function stallingProxy(redisUrl: string): Promise<{ url: string; stalled: boolean; close(): void }> {
  const target = new URL(redisUrl);
  const sockets = new Set<Socket>();
  const state = { stalled: false };
  const server = createNetServer((client) => {
    const upstream = connect({ host: target.hostname, port: Number(target.port) });
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => {
      if (!state.stalled) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) socket.on('close', closeBoth).on('error', closeBoth);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    url: `redis://127.0.0.1:${port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  });
}

export async function buildChangeServer(options: ChangeServerOptions): Promise<{ app: Express; shield: Shield; close(): Promise<void> }> {
  const proxy = options.stall ? await stallingProxy(options.redisUrl) : undefined;
  const redis = createRedisStoreFromUrl(proxy?.url ?? options.redisUrl, { commandTimeoutMs: options.commandTimeoutMs ?? 300, prefix: options.prefix });
  const offset = options.clockOffsetMs ?? 0;
  const startedAt = Date.now() + offset;
  const app = express();
  app.use(express.json());
  const shield = createShield({
    secret: options.secret,
    store: killingStore(redis, options),
    app,
    // No device cookies in this app: new devices are scored (and let through), not stepped up.
    posture: 'adaptive',
    now: () => Date.now() + offset,
    logger: { warn: () => {}, error: (line) => console.error(line) },
  });
  const getUser = (req: Request) =>
    req.headers.authorization === `Bearer ${TOKEN}` ? { userId: USER_ID, email: 'user-1@example.test', sessionStartedAt: startedAt } : undefined;
  app.post(
    '/account/password',
    shield.credentialChange('password', {
      getUser,
      verifySecondFactor: () => false,
      verifyCurrentPassword: (_userId, password) => password === readPassword(options.stateFile),
      // No device cookie in this app: without this every change would ask for a second factor.
      thresholds: { challenge: 60 },
    }),
    (req, res) => {
      // The guard has written its hold; from here on the store stops answering.
      if (proxy) proxy.stalled = true;
      writePassword(options.stateFile, req.body.newPassword);
      if (options.killAt === 'after-change') die();
      if (options.killAt === 'after-response') res.once('finish', die);
      res.json({ ok: true });
    },
  );
  app.post('/wallet/withdrawals', shield.withdrawals({ getUser }), (_req, res) => {
    res.status(201).json({ id: 'w1' });
  });
  app.use(shield.errorHandler());
  return {
    app,
    shield,
    close: async () => {
      await shield.close();
      await redis.close();
      proxy?.close();
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const env = process.env;
  const { app } = await buildChangeServer({
    redisUrl: env.REDIS_URL!,
    secret: env.SHIELD_SECRET!,
    stateFile: env.STATE_FILE!,
    killAt: (env.KILL_AT || undefined) as KillPoint | undefined,
    stall: env.STALL === '1',
    prefix: env.STORE_PREFIX,
  });
  const server = createServer(app);
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    console.log(`[change-server] listening on :${typeof address === 'object' && address ? address.port : 0}`);
  });
}

/**
 * `account-shield lock | unlock | status` — the withdrawal-lock admin API from a shell, against
 * the Redis (or Redis Cluster) the shields share. The user id is keyed with the same secret as
 * the shield, so what the CLI locks is exactly what every instance enforces.
 */
import { userInfo } from 'node:os';
import { ShieldArgumentError, ShieldConfigError } from '../errors/shield-error.js';
import { keyIdOf, recordedKeyId } from '../identity/key-id.js';
import type { LockStatus } from '../locks/locks.js';
import { createShield } from '../shield.js';
import { StoreConfigError, StoreUnavailableError } from '../stores/errors.js';
import { createRedisStoreFromUrl, type RedisStore } from '../stores/redis.js';
import { redactUrl } from '../stores/redis-url.js';
import type { LockReason } from '../stores/store.js';
import { type CliCommand, type CliIo, CliError, EXIT_OK, type Options, parse, processIo, reportError, resolveSecret, UsageError } from './common.js';

const MAX_HOURS = 24 * 366;

const USAGES: Record<Action, string> = {
  lock: `  account-shield lock USER_ID --hours N --reason TEXT [--actor NAME]
      Lock withdrawals for N hours from now (0 < N <= ${MAX_HOURS}; never shortens a longer lock).`,
  unlock: `  account-shield unlock USER_ID [--reason TEXT] [--actor NAME]
      Remove the lock, whatever caused it.`,
  status: `  account-shield status USER_ID
      Print whether withdrawals are locked, until when, and why (exit 0 either way).`,
};

const COMMON_USAGE = `Every command takes:
  --redis URL         redis://host:6379, or comma-separated Cluster seed URLs (default: REDIS_URL)
  --secret-file FILE  the shield's secret (default: SHIELD_SECRET); must match the servers'
  --json              one JSON object on stdout instead of text
--actor defaults to cli:$USER. USER_ID is the application's user id (what getUser returns).
Before acting, the command compares the secret's key id with the one the servers recorded in
the store at start-up, and refuses to act under another key.
Exit codes: 0 done; 2 any error (bad arguments, bad URL, unreachable Redis, a secret that is
not the servers', no key id recorded yet). Nothing is changed when it exits 2, except after a
timeout, which says so.`;

/** Generous for an operator's command over a WAN, still bounded so a dead Redis is reported quickly. */
const COMMAND_TIMEOUT_MS = 2000;
const CONNECT_TIMEOUT_MS = 2000;

const common = {
  redis: { type: 'string' },
  'secret-file': { type: 'string' },
  json: { type: 'boolean', default: false },
} satisfies Options;

type Action = 'lock' | 'unlock' | 'status';

interface Parsed {
  action: Action;
  userId: string;
  url: string;
  json: boolean;
  secretFile: string | undefined;
  values: Record<string, string | boolean | undefined>;
}

function parseCommand(action: Action, argv: string[], extra: Options, io: CliIo): Parsed {
  const { values, positionals } = parse(argv, { ...common, ...extra });
  const [userId, ...more] = positionals;
  if (userId === undefined || userId.trim() === '') throw new UsageError(`${action} needs a USER_ID`);
  if (more.length > 0) throw new UsageError(`${action} takes one USER_ID, got ${positionals.length} arguments`);
  if (userId.length > 256) throw new UsageError('USER_ID is longer than 256 characters');
  const url = typeof values['redis'] === 'string' ? values['redis'] : io.env['REDIS_URL'];
  if (url === undefined || url.trim() === '') throw new UsageError(`${action} needs --redis URL (or REDIS_URL)`);
  const secretFile = values['secret-file'];
  return { action, userId, url: url.trim(), json: values['json'] === true, secretFile: typeof secretFile === 'string' ? secretFile : undefined, values };
}

function requiredText(values: Parsed['values'], name: string, action: Action): string {
  const value = values[name];
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`${action} needs --${name} TEXT`);
  return value;
}

function defaultActor(io: CliIo): string {
  let name = io.env['USER'] || io.env['LOGNAME'];
  if (!name) {
    try {
      name = userInfo().username;
    } catch {
      name = 'unknown';
    }
  }
  return `cli:${name}`;
}

/** Every URL of a seed list with its credentials masked. */
function shownUrl(url: string): string {
  return url
    .split(',')
    .map((part) => redactUrl(part.trim()))
    .join(',');
}

/**
 * Runs `work` against the admin API of a shield built like the servers' (same secret, same
 * store), once the store confirms the servers run under this secret, and turns what can go
 * wrong into a CliError with a message an operator can act on.
 */
async function withLocks<T>(parsed: Parsed, io: CliIo, work: (locks: ReturnType<typeof createShield>['locks']) => Promise<T>): Promise<T> {
  const secret = (await resolveSecret(parsed.secretFile, io)).toString('utf8');
  let store: RedisStore;
  try {
    store = createRedisStoreFromUrl(parsed.url, { commandTimeoutMs: COMMAND_TIMEOUT_MS, connectTimeoutMs: CONNECT_TIMEOUT_MS });
  } catch (error) {
    if (error instanceof StoreConfigError) throw new CliError(error.message, { cause: error });
    throw error;
  }
  try {
    return await explainStoreErrors(parsed, async () => {
      // Before a shield exists: a shield records its own key id when it starts.
      await requireServersKey(store, secret, parsed);
      let shield: ReturnType<typeof createShield>;
      try {
        shield = createShield({ secret, store });
      } catch (error) {
        if (error instanceof ShieldConfigError) throw new CliError(`${error.message} (the secret must be the one the servers run with)`, { cause: error });
        throw error;
      }
      try {
        return await work(shield.locks);
      } finally {
        await shield.ready.catch(() => undefined);
        await shield.close();
      }
    });
  } finally {
    await store.close();
  }
}

/**
 * Locks and user ids are keyed with the secret: under another secret the CLI would lock a user
 * no server ever looks up, and report success. Compare key ids (never the secret) first.
 */
async function requireServersKey(store: RedisStore, secret: string, parsed: Parsed): Promise<void> {
  const recorded = await recordedKeyId(store);
  const mine = keyIdOf(secret);
  const unchanged = parsed.action === 'status' ? '' : '; nothing was changed';
  if (recorded === undefined) {
    throw new CliError(
      `no shield has recorded its key id in the store at ${shownUrl(parsed.url)} yet, so this secret cannot be checked${unchanged}. ` +
        'Servers record it when they start: start (or restart) one server on this store with its usual SHIELD_SECRET, then run this again.',
    );
  }
  if (recorded !== mine) {
    throw new CliError(
      `this secret is not the one the servers on ${shownUrl(parsed.url)} run with (their key id ${recorded}, this secret's ${mine})${unchanged}. ` +
        "Pass the servers' SHIELD_SECRET (or --secret-file).",
    );
  }
}

/** Store failures as operator messages: what happened, and whether anything may have changed. */
async function explainStoreErrors<T>(parsed: Parsed, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof StoreUnavailableError) {
      const where = shownUrl(parsed.url);
      if (error.reason === 'disconnected') {
        const unchanged = parsed.action === 'status' ? '' : '; nothing was changed';
        throw new CliError(`cannot reach Redis at ${where} (not connected)${unchanged}`, { cause: error });
      }
      if (error.reason === 'timeout') {
        const unsure = parsed.action === 'status' ? '' : `; the ${parsed.action} may or may not have been applied, check with status`;
        throw new CliError(`cannot reach Redis at ${where} (no answer within ${COMMAND_TIMEOUT_MS} ms)${unsure}`, { cause: error });
      }
      throw new CliError(`Redis at ${where} could not answer: ${error.message}`, { cause: error });
    }
    if (error instanceof ShieldArgumentError) throw new UsageError(error.message);
    throw error;
  }
}

function reasonJson(reason: LockReason) {
  return {
    kind: reason.kind,
    at: new Date(reason.at).toISOString(),
    until: new Date(reason.until).toISOString(),
    ...(reason.detail !== undefined ? { detail: reason.detail } : {}),
    ...(reason.actor !== undefined ? { actor: reason.actor } : {}),
  };
}

function statusJson(userId: string, status: LockStatus) {
  return { userId, locked: status.locked, until: status.until?.toISOString() ?? null, reasons: status.reasons.map(reasonJson) };
}

function remaining(until: Date, now = Date.now()): string {
  const minutes = Math.max(0, Math.round((until.getTime() - now) / 60_000));
  const hours = Math.floor(minutes / 60);
  return hours > 0 ? `${hours} h ${minutes % 60} min` : `${minutes} min`;
}

function printStatus(io: CliIo, parsed: Parsed, status: LockStatus, verb: string): void {
  if (parsed.json) {
    io.out(JSON.stringify({ action: verb, ...statusJson(parsed.userId, status) }));
    return;
  }
  // User ids are the application's opaque ids; JSON.stringify keeps odd characters printable.
  const who = JSON.stringify(parsed.userId);
  if (!status.locked || !status.until) {
    io.out(`${who}: withdrawals not locked`);
    return;
  }
  io.out(`${who}: withdrawals locked until ${status.until.toISOString()} (${remaining(status.until)} from now)`);
  for (const reason of status.reasons) {
    const by = reason.actor ? ` by ${reason.actor}` : '';
    const detail = reason.detail ? `: ${JSON.stringify(reason.detail)}` : '';
    io.out(`  ${reason.kind} at ${new Date(reason.at).toISOString()}, until ${new Date(reason.until).toISOString()}${by}${detail}`);
  }
}

async function runLock(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('lock', argv, { hours: { type: 'string' }, reason: { type: 'string' }, actor: { type: 'string' } }, io);
  const hoursText = parsed.values['hours'];
  if (typeof hoursText !== 'string' || hoursText.trim() === '') throw new UsageError('lock needs --hours N');
  const hours = Number(hoursText);
  if (!(Number.isFinite(hours) && hours > 0 && hours <= MAX_HOURS)) {
    throw new UsageError(`--hours must be a number above 0 and at most ${MAX_HOURS}, got ${JSON.stringify(hoursText.slice(0, 20))}`);
  }
  const reason = requiredText(parsed.values, 'reason', 'lock');
  const actor = typeof parsed.values['actor'] === 'string' && parsed.values['actor'].trim() ? parsed.values['actor'] : defaultActor(io);
  const status = await withLocks(parsed, io, (locks) => locks.lock(parsed.userId, { hours, reason, actor }));
  printStatus(io, parsed, status, 'lock');
  return EXIT_OK;
}

async function runUnlock(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('unlock', argv, { reason: { type: 'string' }, actor: { type: 'string' } }, io);
  const given = parsed.values['reason'];
  if (given !== undefined && (typeof given !== 'string' || given.trim() === '')) throw new UsageError('--reason must not be empty');
  const reason = typeof given === 'string' ? given : 'unlocked with account-shield unlock';
  const actor = typeof parsed.values['actor'] === 'string' && parsed.values['actor'].trim() ? parsed.values['actor'] : defaultActor(io);
  const status = await withLocks(parsed, io, (locks) => locks.unlock(parsed.userId, { reason, actor }));
  printStatus(io, parsed, status, 'unlock');
  return EXIT_OK;
}

async function runStatus(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('status', argv, {}, io);
  const status = await withLocks(parsed, io, (locks) => locks.status(parsed.userId));
  printStatus(io, parsed, status, 'status');
  return EXIT_OK;
}

const runners: Record<Action, (argv: string[], io: CliIo) => Promise<number>> = { lock: runLock, unlock: runUnlock, status: runStatus };

export async function runLocks(action: Action, argv: string[], io: CliIo = processIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(['usage:', USAGES[action], '', COMMON_USAGE].join('\n'));
    return EXIT_OK;
  }
  try {
    return await runners[action](argv, io);
  } catch (error) {
    return reportError(error, io, `run 'account-shield ${action} --help' for usage`);
  }
}

export const lockCommand: CliCommand = { summary: 'lock withdrawals for a user (admin)', run: (argv) => runLocks('lock', argv) };
export const unlockCommand: CliCommand = { summary: "remove a user's withdrawal lock (admin)", run: (argv) => runLocks('unlock', argv) };
export const statusCommand: CliCommand = { summary: "show a user's withdrawal lock", run: (argv) => runLocks('status', argv) };

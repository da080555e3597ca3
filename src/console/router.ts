import { readFileSync } from 'node:fs';
import express, { type Request, type Response, type Router } from 'express';
import type { ShieldEventMap } from '../engine/events.js';
import type { WithdrawalLocks } from '../locks/locks.js';
import { type ConsoleOptions, resolveConsoleOptions } from './options.js';
import { ConsoleRecorder } from './recorder.js';

/** What the console needs of the shield: its events, its lock API and its keying. */
export interface ConsoleHost {
  on<E extends keyof ShieldEventMap>(event: E, listener: (...args: ShieldEventMap[E]) => void): unknown;
  readonly locks: WithdrawalLocks;
  readonly keyUser: (userId: string) => string;
  readonly now: () => number;
  readonly waveWindowSec: number;
}

/**
 * A custom header a cross-site form or image cannot send (it forces a CORS preflight the
 * console never answers): the browser's cached Basic credentials alone cannot unlock.
 */
export const CONSOLE_HEADER = 'x-account-shield-console';
/** Re-read tracked locks from the store at most this often (they may change elsewhere). */
const LOCK_REFRESH_MS = 5000;
const MAX_REASON = 500;

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  '/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
};

/** Read once at mount: the files ship in the package next to this module (see `npm run build`). */
function loadAssets(): Map<string, { body: string; type: string }> {
  const loaded = new Map<string, { body: string; type: string }>();
  for (const [path, { file, type }] of Object.entries(ASSETS)) {
    loaded.set(path, { body: readFileSync(new URL(`./assets/${file}`, import.meta.url), 'utf8'), type });
  }
  return loaded;
}

/**
 * The operator console: an Express router to mount behind the app's own admin authentication,
 * e.g. `app.use('/admin', adminAuth, shield.console())`. It shows what this process's shield
 * decided (live, by polling), counts, the wave state, top sources and attacked accounts by
 * keyed id, and the withdrawal locks this process saw, with an audited Unlock.
 */
export function createConsole(host: ConsoleHost, options?: ConsoleOptions): Router {
  const resolved = resolveConsoleOptions(options);
  const recorder = new ConsoleRecorder({
    keyUser: host.keyUser,
    now: host.now,
    waveWindowSec: host.waveWindowSec,
    windowMinutes: resolved.windowMinutes,
    maxDecisions: resolved.maxDecisions,
  });
  host.on('decision', recorder.onDecision);
  host.on('challenge', recorder.onChallenge);
  host.on('withdrawals.locked', recorder.onLocked);
  host.on('withdrawals.unlocked', recorder.onUnlocked);

  const assets = loadAssets();
  let lastRefresh = 0;
  let refreshing: Promise<void> | undefined;
  const refreshLocks = async () => {
    if (host.now() - lastRefresh < LOCK_REFRESH_MS) return;
    refreshing ??= (async () => {
      for (const { userId, id } of recorder.trackedLocks()) {
        const status = await host.locks.status(userId).catch(() => undefined);
        // Unknown (store down) keeps what we saw: a console never reports a lock as gone on a guess.
        if (status) recorder.updateLock(id, { until: status.until?.getTime() ?? null, reasons: status.reasons });
      }
      lastRefresh = host.now();
    })().finally(() => {
      refreshing = undefined;
    });
    await refreshing;
  };

  const router = express.Router();
  router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Content-Security-Policy', "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    next();
  });

  router.get(['/', '/console.js', '/console.css'], (req: Request, res: Response) => {
    // Relative asset URLs need the mount path to end in a slash: /admin → /admin/.
    if (req.path === '/' && !req.originalUrl.split('?')[0]!.endsWith('/')) {
      res.redirect(308, `${req.baseUrl}/`);
      return;
    }
    const asset = assets.get(req.path)!;
    res.type(asset.type).send(req.path === '/' ? asset.body.replace('%POLL_MS%', String(resolved.pollMs)) : asset.body);
  });

  router.get('/api/state', async (req: Request, res: Response) => {
    const after = Number(typeof req.query.after === 'string' ? req.query.after : 0);
    await refreshLocks();
    res.json(recorder.snapshot(Number.isSafeInteger(after) && after > 0 ? after : 0));
  });

  router.post('/api/unlock', express.json({ limit: '4kb' }), async (req: Request, res: Response) => {
    if (req.get(CONSOLE_HEADER) !== '1') {
      res.status(403).json({ error: 'forbidden', detail: `send the ${CONSOLE_HEADER} header` });
      return;
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
    if (typeof body.id !== 'string' || reason.length === 0 || reason.length > MAX_REASON) {
      res.status(400).json({ error: 'bad_request', detail: `id and a reason (1–${MAX_REASON} characters) are required` });
      return;
    }
    const userId = recorder.lockOwner(body.id);
    if (userId === undefined) {
      res.status(404).json({ error: 'unknown_lock', detail: 'this console has not seen that lock (or it has ended)' });
      return;
    }
    try {
      // The lock API emits `withdrawals.unlocked` with actor and reason: that event is the audit.
      await host.locks.unlock(userId, { reason, actor: resolved.actor(req) });
      res.json({ ok: true });
    } catch {
      res.status(503).json({ error: 'unavailable', detail: 'the lock store did not answer; the lock is unchanged' });
    }
  });

  router.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not_found' });
  });
  return router;
}

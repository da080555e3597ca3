import express, { type Request } from 'express';

/**
 * Express's own `req.ip` getter, from the Express the app shares with the shield (a peer
 * dependency). A request whose `ip` resolves to any other getter — an app's override, or a
 * second copy of Express — has no origin (see `clientOrigin`).
 */
const EXPRESS_IP: unknown = Object.getOwnPropertyDescriptor(express.request, 'ip')?.get;

/** Longer X-Forwarded-For headers have no origin: a device's visit keeps its origin text. */
const MAX_FORWARDED_LENGTH = 256;

/** Each trust function the shield has met, by a number of its own (an origin is a string). */
const trustIds = new WeakMap<object, number>();
let trustCount = 0;

/**
 * A text naming everything Express's `req.ip` is computed from: the app's compiled `trust
 * proxy` function, the socket's address and the X-Forwarded-For header. Two requests of the
 * same origin have the same `req.ip`, so a device back from the same origin is known to be back
 * from the same address without asking Express again: in a server, `req.ip` (proxy-addr
 * parsing the header and every address in it) costs a returning user's login ~10 µs, more
 * than the rest of its read.
 *
 * Undefined — read `req.ip` every time — whenever that cannot be promised:
 * - `req.ip` is not Express's own getter (the request, the app or its prototype chain
 *   defines another: the app computes addresses its own way, from inputs not named here);
 * - `trust proxy` is a function of the app's (it may answer differently tomorrow: a proxy
 *   list refreshed in place), or `true` (the shield reads the socket address then, cheaply);
 * - there is no socket address, or the header is longer than any real chain of proxies;
 * - the request is no Express request (no app).
 */
export function clientOrigin(req: Request): string | undefined {
  const app = req.app as Request['app'] | undefined;
  if (typeof app?.get !== 'function') return undefined;
  const trust: unknown = app.get('trust proxy');
  if (typeof trust === 'function' || trust === true) return undefined;
  const trustFn: unknown = app.get('trust proxy fn');
  if (typeof trustFn !== 'function') return undefined;
  const remote = req.socket?.remoteAddress;
  if (typeof remote !== 'string') return undefined;
  const forwarded = req.headers['x-forwarded-for'];
  if (forwarded !== undefined && (typeof forwarded !== 'string' || forwarded.length > MAX_FORWARDED_LENGTH)) return undefined;
  if (!servedByExpress(req)) return undefined;
  return `${trustId(trustFn)}\0${remote}\0${forwarded ?? ''}`;
}

/**
 * Whether `req.ip` resolves to Express's own getter: the first `ip` up the chain is it.
 * `__lookupGetter__` is that walk in one native call — the getter of the first object that
 * has `ip` of its own, undefined when that one is a plain value — where walking it here made
 * a property descriptor object per level on every request.
 */
function servedByExpress(req: Request): boolean {
  return EXPRESS_IP !== undefined && lookupGetter.call(req, 'ip') === EXPRESS_IP;
}

/** Annex B's `Object.prototype.__lookupGetter__`, which TypeScript's libraries leave out. */
const lookupGetter = (Object.prototype as unknown as { __lookupGetter__(this: object, property: string): unknown }).__lookupGetter__;

function trustId(trustFn: object): number {
  let id = trustIds.get(trustFn);
  if (id === undefined) {
    id = trustCount++;
    trustIds.set(trustFn, id);
  }
  return id;
}

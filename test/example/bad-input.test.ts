import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeApp } from '../../examples/exchange-server/app.js';
import { guardsFor, type Protection } from '../../bench/exchange/protection.js';
import { type Cast, type ClientOptions, loginAndEnrol, startExchange, testUsers } from './helpers.js';

/**
 * Every route, every kind of hostile or broken body: the answer is a 4xx JSON error with an
 * `error` code, never a 500 and never an HTML page. Raw JSON text is sent where the payload
 * cannot be expressed as a JS object (prototype keys, lone surrogates, malformed JSON).
 */
interface Route {
  readonly path: string;
  readonly auth: boolean;
  /** String fields the route reads, to poison one at a time. */
  readonly fields: readonly string[];
  /** Takes no body: JSON-level junk may be ignored (then any non-5xx answer is fine). */
  readonly bodyless?: boolean;
  /**
   * Behind a credential-change guard (with PROTECTION=shield): it reads `challenge` and `code`
   * and, on the password route, the password fields itself, before the app's handler does.
   */
  readonly guarded?: boolean;
  /** Fields the guard itself validates whenever present: wrong ones are a 400 from any device. */
  readonly guardFields?: readonly string[];
  /** Whose session calls it: one account per route, so one route's changes (a 2FA reset, an
   * email change, withdrawal locks) never decide what another route's test sees. */
  readonly owner?: keyof Cast;
}

const ROUTES: readonly Route[] = [
  { path: '/auth/login', auth: false, fields: ['email', 'password'] },
  { path: '/auth/login/verify', auth: false, fields: ['challenge', 'code'] },
  {
    path: '/account/password',
    auth: true,
    fields: ['currentPassword', 'newPassword'],
    guarded: true,
    guardFields: ['currentPassword', 'newPassword'],
    owner: 'carol',
  },
  { path: '/account/email', auth: true, fields: ['email'], owner: 'frank' },
  { path: '/account/email/confirm', auth: true, fields: ['verificationCode'], guarded: true, owner: 'leakedBob' },
  { path: '/account/2fa/reset', auth: true, fields: [], bodyless: true, guarded: true, owner: 'grace' },
  { path: '/account/api-keys', auth: true, fields: ['permissions'], guarded: true, owner: 'leakedDave' },
  { path: '/wallet/withdrawals', auth: true, fields: ['amount', 'address'], owner: 'leakedErin' },
];

/** A step-up answer's fields, which every guarded route reads before anything else. */
const STEP_UP_FIELDS = ['challenge', 'code'] as const;

/** A plausible valid value per field, so one poisoned field is the only thing wrong. */
const VALID: Record<string, unknown> = {
  email: 'someone@example.test',
  password: 'some-password-123',
  challenge: 'A'.repeat(43),
  code: '123456',
  verificationCode: '123456',
  currentPassword: 'not-the-current-one',
  newPassword: 'a-Much-better-passphrase-2024',
  permissions: ['read'],
  amount: '0.5',
  address: 'bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh',
};

const validBody = (route: Route) => Object.fromEntries(route.fields.map((f) => [f, VALID[f]]));
/** The valid body as JSON text with `field`'s value replaced by raw JSON `rawValue`. */
const withRaw = (route: Route, field: string, rawValue: string, fields: readonly string[] = route.fields) =>
  `{${fields.map((f) => `${JSON.stringify(f)}:${f === field ? rawValue : JSON.stringify(VALID[f])}`).join(',')}}`;

const POISON_VALUES: readonly [string, string][] = [
  ['number', '42'],
  ['negative number', '-1'],
  ['null', 'null'],
  ['boolean', 'true'],
  ['array', '["a","b"]'],
  ['object', '{"$gt":""}'],
  ['empty string', '""'],
  ['lone high surrogate', '"\\ud800"'],
  ['lone low surrogate', '"x\\udc00y"'],
  ['nested __proto__', '{"__proto__":{"admin":true}}'],
];

/** Valid JSON strings that are merely odd: routes may accept them as data, but never 5xx. */
const ODD_STRINGS: readonly [string, string][] = [
  ['RTL override', JSON.stringify('\u202eadmin@example.test')],
  ['zero-width chars', JSON.stringify('a\u200b\u200c\u200d\ufeff@example.test')],
  ['NUL and controls', JSON.stringify('a\u0000b\u0007@example.test')],
  ['emoji / astral', JSON.stringify('😀@example.test')],
  ['combining marks', JSON.stringify('e\u0301\u0301\u0301@example.test')],
];

const WHOLE_BODIES: readonly [string, string, string?][] = [
  ['malformed JSON', '{"email":'],
  ['trailing garbage', '{"a":1}}'],
  ['top-level array', '[1,2,3]'],
  ['top-level string', '"hello"'],
  ['top-level null', 'null'],
  ['top-level number', '12'],
  ['empty object', '{}'],
  ['__proto__ key', '{"__proto__":{"email":"x@y.z","password":"p","isAdmin":true}}'],
  ['constructor key', '{"constructor":{"prototype":{"isAdmin":true}}}'],
  ['prototype key', '{"prototype":{"email":"x@y.z"}}'],
  ['duplicate keys', '{"email":1,"email":{"a":1}}'],
  ['deeply nested', `${'['.repeat(2000)}${']'.repeat(2000)}`],
  ['invalid escape', '{"email":"\\x41"}'],
  ['empty body', ''],
];

function expectJsonError(res: request.Response, what: string): void {
  expect(res.status, `${what} → ${res.status} ${res.text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, what).toBeLessThan(500);
  expect(res.headers['content-type'], what).toMatch(/^application\/json/);
  expect(typeof res.body.error, what).toBe('string');
}

function expectNoServerError(res: request.Response, what: string): void {
  expect(res.status, `${what} → ${res.status} ${res.text.slice(0, 200)}`).toBeLessThan(500);
  expect(res.headers['content-type'], what).toMatch(/^application\/json/);
  if (res.status >= 400) expect(typeof res.body.error, what).toBe('string');
}

describe.each<Protection>(['shield', 'none', 'express-rate-limit', 'rlf-recipe'])('bad input with PROTECTION=%s', (protection) => {
  let exchange: ExchangeApp;
  let cast: Cast;
  /**
   * Per owner, a session on a device the shield knows (logged in there, device cookie kept):
   * its requests pass the guards' risk check, so malformed bodies really reach the guards'
   * own validation and then the app's, instead of stopping at a step-up answer.
   */
  const sessions = new Map<keyof Cast, ClientOptions>();
  let ipCounter = 0;

  beforeAll(async () => {
    cast = testUsers();
    exchange = await startExchange(cast, { guards: guardsFor(protection) });
    const owners = [...new Set(ROUTES.flatMap((r) => (r.owner ? [r.owner] : [])))];
    for (const [i, owner] of owners.entries()) {
      const session = await loginAndEnrol(exchange.app, cast[owner], { ip: `192.0.2.${i + 1}` });
      if (protection === 'shield') expect(session.cookie, owner).toMatch(/^as_dev=/);
      sessions.set(owner, { token: session.token, cookie: session.cookie });
    }
  });
  afterAll(() => exchange.close());

  // A fresh client address per request, so velocity limits never mask what is being tested.
  // `unknown`: the same session from a device without the cookie (a stolen token, a new browser).
  const send = (route: Route, body: string, contentType = 'application/json', device: 'known' | 'unknown' = 'known') => {
    ipCounter++;
    let req = request(exchange.app)
      .post(route.path)
      .set('X-Forwarded-For', `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`)
      .set('Content-Type', contentType);
    const session = route.owner ? sessions.get(route.owner) : undefined;
    if (route.auth) req = req.set('Authorization', `Bearer ${session?.token}`);
    if (session?.cookie && device === 'known') req = req.set('Cookie', session.cookie);
    return req.send(body);
  };

  for (const route of ROUTES) {
    describe(route.path, () => {
      it('whole-body junk → 4xx JSON', async () => {
        for (const [what, body] of WHOLE_BODIES) {
          const res = await send(route, body);
          if (route.bodyless) expectNoServerError(res, what);
          else expectJsonError(res, what);
        }
      });

      // Routes without fields (2FA reset) have nothing to poison.
      if (route.fields.length > 0) {
        it('each field poisoned with a wrong type or invalid unicode → 400', async () => {
          for (const field of route.fields) {
            for (const [what, raw] of POISON_VALUES) {
              // A JSON number is a valid amount; every other poison is wrong for every field.
              if (field === 'amount' && what === 'number') continue;
              const res = await send(route, withRaw(route, field, raw));
              expectJsonError(res, `${field}: ${what}`);
              expect(res.status, `${field}: ${what}`).toBe(400);
            }
            const missing = Object.fromEntries(Object.entries(validBody(route)).filter(([k]) => k !== field));
            const res = await send(route, JSON.stringify(missing));
            expect(res.status, `${field} missing`).toBe(400);
            expect(res.body.error).toBe('bad_request');
          }
        });

        it('odd but well-formed unicode never causes a 5xx', async () => {
          for (const field of route.fields) {
            for (const [what, raw] of ODD_STRINGS) {
              expectNoServerError(await send(route, withRaw(route, field, raw)), `${field}: ${what}`);
            }
          }
        });
      }

      it('oversized bodies → 413 JSON; a 100 KB field too', async () => {
        const huge = await send(route, JSON.stringify({ email: 'a'.repeat(1024 * 1024) }));
        expectJsonError(huge, '1 MB body');
        expect(huge.status).toBe(413);
        const hundredKb = JSON.stringify(`${'x'.repeat(100 * 1024)}@example.test`);
        const field = route.fields[0];
        const big = await send(route, field ? withRaw(route, field, hundredKb) : `{"email":${hundredKb}}`);
        expect(big.status).toBe(413);
        expect(big.body.error).toBe('payload_too_large');
      });

      it('wrong content types → 4xx JSON', async () => {
        const json = JSON.stringify(validBody(route));
        for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
          const res = await send(route, json, type);
          if (route.bodyless) expectNoServerError(res, type);
          else expectJsonError(res, type);
        }
        const charset = await send(route, json, 'application/json; charset=utf-16');
        expectJsonError(charset, 'utf-16 charset');
      });

      if (protection === 'shield' && route.guarded) {
        it('a malformed step-up answer (challenge, code) → 400 bad_request, from the known device and any other', async () => {
          const fields = [...route.fields, ...STEP_UP_FIELDS];
          for (const device of ['known', 'unknown'] as const) {
            for (const field of STEP_UP_FIELDS) {
              for (const [what, raw] of POISON_VALUES) {
                const res = await send(route, withRaw(route, field, raw, fields), undefined, device);
                expectJsonError(res, `${device} device, ${field}: ${what}`);
                expect(res.status, `${device} device, ${field}: ${what}`).toBe(400);
                expect(res.body.error).toBe('bad_request');
              }
              // One without the other is no answer to a challenge.
              const alone = await send(route, JSON.stringify({ ...validBody(route), [field]: VALID[field] }), undefined, device);
              expect(alone.status, `${device} device, ${field} alone`).toBe(400);
              expect(alone.body.error).toBe('bad_request');
            }
          }
        });

        it('from a device the shield does not know: junk → 4xx JSON, never 5xx; what the guard validates → 400', async () => {
          for (const [what, body] of WHOLE_BODIES) {
            const res = await send(route, body, undefined, 'unknown');
            if (route.bodyless) expectNoServerError(res, what);
            else expectJsonError(res, what);
          }
          for (const field of route.fields) {
            for (const [what, raw] of [...POISON_VALUES, ...ODD_STRINGS]) {
              const res = await send(route, withRaw(route, field, raw), undefined, 'unknown');
              expectJsonError(res, `${field}: ${what}`);
              if (route.guardFields?.includes(field) && POISON_VALUES.some(([w]) => w === what)) {
                expect(res.status, `${field}: ${what}`).toBe(400);
                expect(res.body.error).toBe('bad_request');
              } else {
                // Fields only the app reads: the guard first wants a second factor from a new device.
                expect([400, 401], `${field}: ${what}`).toContain(res.status);
              }
            }
          }
          const valid = await send(route, JSON.stringify(validBody(route)), undefined, 'unknown');
          expect(valid.status).toBe(401);
          expect(valid.body.error).toBe('step_up_required');
        });
      }
    });
  }

  it('valid-looking but out-of-range withdrawal amounts and addresses → 400', async () => {
    const route = ROUTES.find((r) => r.path === '/wallet/withdrawals')!;
    const amounts = ['0', '0.000', '-1', '1e5', '1E-3', '+1', '.5', '5.', '01', '1_000', ' 1', 'NaN', 'Infinity', '0x10', '1234567890123', `1.${'1'.repeat(19)}`];
    for (const amount of amounts) {
      const res = await send(route, JSON.stringify({ amount, address: VALID.address }));
      expect(res.status, `amount ${amount}`).toBe(400);
    }
    for (const amount of [0, -0.5, 1e21, 5e-7, 1e13]) {
      const res = await send(route, JSON.stringify({ amount, address: VALID.address }));
      expect(res.status, `amount ${amount}`).toBe(400);
    }
    for (const address of ['has space', 'tab\there', 'a'.repeat(129), 'ünïcode', '']) {
      const res = await send(route, JSON.stringify({ amount: '1', address }));
      expect(res.status, `address ${JSON.stringify(address).slice(0, 30)}`).toBe(400);
    }
  });

  it('unknown routes and methods → 404 JSON', async () => {
    const res = await request(exchange.app).get('/nope');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'not_found' });
    const wrongMethod = await request(exchange.app).get('/auth/login');
    expect(wrongMethod.status).toBe(404);
    expect(wrongMethod.body.error).toBe('not_found');
  });
});

describe('bearer authentication', () => {
  let exchange: ExchangeApp;
  beforeAll(async () => {
    exchange = await startExchange(testUsers());
  });
  afterAll(() => exchange.close());

  const authed = [...ROUTES.filter((r) => r.auth).map((r) => ['post', r.path] as const), ['get', '/account/security'] as const];
  const headers: [string, string | undefined][] = [
    ['no header', undefined],
    ['empty bearer', 'Bearer '],
    ['malformed token', 'Bearer not-a-token'],
    ['unknown token', `Bearer ${'A'.repeat(43)}`],
    ['basic scheme', 'Basic dXNlcjpwYXNz'],
    ['two tokens', `Bearer ${'A'.repeat(43)} ${'B'.repeat(43)}`],
    ['huge header', `Bearer ${'A'.repeat(4000)}`],
  ];

  it.each(authed)('%s %s without a valid bearer token → 401 {error:"unauthorized"}', async (method, path) => {
    for (const [what, header] of headers) {
      let req = request(exchange.app)[method](path);
      if (header !== undefined) req = req.set('Authorization', header);
      const res = await (method === 'post' ? req.send({}) : req);
      expect(res.status, what).toBe(401);
      expect(res.body, what).toEqual({ error: 'unauthorized' });
      expect(res.headers['www-authenticate'], what).toBe('Bearer');
    }
  });
});

import { StoreConfigError } from './errors.js';

/** One Redis server as named by a `redis://` or `rediss://` URL. */
export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
  /** Logical database; always 0 for a Cluster, which has no others. */
  readonly db: number;
  readonly tls: boolean;
}

export interface RedisTarget {
  /** `single` for one URL, `cluster` for a seed list. */
  readonly mode: 'single' | 'cluster';
  readonly endpoints: readonly RedisEndpoint[];
}

const DEFAULT_PORT = 6379;

/**
 * Parses `REDIS_URL`-style input: one URL is a single server, a comma-separated list (or an
 * array) is a Cluster seed list. Errors never echo a password back: the URL usually comes from
 * the environment and error messages end up in logs.
 */
export function parseRedisTarget(input: string | readonly string[]): RedisTarget {
  const parts = (typeof input === 'string' ? input.split(',') : [...input]).map((part) => part.trim());
  const urls = parts.filter((part) => part.length > 0);
  if (urls.length === 0) {
    throw new StoreConfigError(
      'REDIS_URL_EMPTY',
      'no Redis URL was given',
      'set it to redis://host:6379 (or a comma-separated list of Cluster seed URLs)',
    );
  }
  if (urls.length !== parts.length) {
    throw new StoreConfigError(
      'REDIS_URL_INVALID',
      'the Redis URL list has an empty entry',
      'remove the stray comma: list seeds as redis://a:6379,redis://b:6379',
    );
  }
  const endpoints = urls.map(parseRedisUrl);
  const cluster = typeof input !== 'string' || endpoints.length > 1;
  if (cluster) {
    if (endpoints.some((endpoint) => endpoint.db !== 0)) {
      throw new StoreConfigError(
        'REDIS_CLUSTER_DB',
        'a Cluster seed URL selects a database, but Redis Cluster only has database 0',
        'drop the /<db> path from the seed URLs',
      );
    }
    if (endpoints.some((endpoint) => endpoint.tls !== endpoints[0]?.tls)) {
      throw new StoreConfigError(
        'REDIS_CLUSTER_MIXED',
        'the Cluster seed list mixes redis:// and rediss:// URLs',
        'use the same scheme for every seed',
      );
    }
  }
  return { mode: cluster ? 'cluster' : 'single', endpoints };
}

export function parseRedisUrl(raw: string): RedisEndpoint {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new StoreConfigError(
      'REDIS_URL_INVALID',
      `"${redactUrl(raw)}" is not a URL`,
      'write it as redis://[user:password@]host[:port][/db] or rediss://... for TLS',
    );
  }
  const shown = redactUrl(raw);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new StoreConfigError(
      'REDIS_URL_SCHEME',
      `"${shown}" uses ${url.protocol} but only redis: and rediss: are supported`,
      'start the URL with redis:// (or rediss:// for TLS)',
    );
  }
  // IPv6 literals arrive bracketed; the socket layer wants them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) {
    throw new StoreConfigError('REDIS_URL_HOST', `"${shown}" has no host`, 'write it as redis://host:6379');
  }
  // WHATWG URL drops the port when it equals the scheme default, which redis: does not have,
  // so an empty string really means "not given".
  const port = url.port === '' ? DEFAULT_PORT : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new StoreConfigError('REDIS_URL_PORT', `"${shown}" has an invalid port`, 'use a port between 1 and 65535');
  }
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,5}$/.test(path)) {
    throw new StoreConfigError(
      'REDIS_URL_DB',
      `"${shown}" has path "/${path}", which is not a database number`,
      'use /0 to /15 (or no path for database 0)',
    );
  }
  if (url.search !== '' || url.hash !== '') {
    throw new StoreConfigError(
      'REDIS_URL_QUERY',
      `"${shown}" has query or fragment options, which are not read`,
      'remove them and pass client options in code (new RedisStore({ client }))',
    );
  }
  return {
    host,
    port,
    db: path === '' ? 0 : Number(path),
    tls: url.protocol === 'rediss:',
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
  };
}

/** The URL with its credentials replaced, for messages and logs (also for malformed input). */
export function redactUrl(raw: string): string {
  const at = raw.lastIndexOf('@');
  if (at === -1) return raw;
  const slashes = raw.indexOf('//');
  const from = slashes === -1 || slashes > at ? 0 : slashes + 2;
  return `${raw.slice(0, from)}***${raw.slice(at)}`;
}

import { describe, expect, it } from 'vitest';
import { StoreConfigError } from '../../src/stores/errors.js';
import { parseRedisTarget, redactUrl } from '../../src/stores/redis-url.js';

const codeOf = (input: string | string[]) => {
  try {
    parseRedisTarget(input);
  } catch (error) {
    expect(error).toBeInstanceOf(StoreConfigError);
    return (error as StoreConfigError).code;
  }
  return undefined;
};

describe('Redis URL parsing', () => {
  it('reads a single URL with credentials, port and database', () => {
    expect(parseRedisTarget('redis://user:p%40ss@cache.internal:6380/2')).toEqual({
      mode: 'single',
      endpoints: [{ host: 'cache.internal', port: 6380, db: 2, tls: false, username: 'user', password: 'p@ss' }],
    });
    expect(parseRedisTarget('rediss://[::1]').endpoints[0]).toEqual({ host: '::1', port: 6379, db: 0, tls: true });
  });

  it('reads a comma-separated list (or an array) as Cluster seeds', () => {
    const target = parseRedisTarget('redis://a:7000, redis://b:7001,redis://c:7002');
    expect(target.mode).toBe('cluster');
    expect(target.endpoints.map((e) => `${e.host}:${e.port}`)).toEqual(['a:7000', 'b:7001', 'c:7002']);
    expect(parseRedisTarget(['redis://a:7000']).mode).toBe('cluster');
  });

  it('names what is wrong and how to fix it', () => {
    expect(codeOf('')).toBe('REDIS_URL_EMPTY');
    expect(codeOf(' , ')).toBe('REDIS_URL_EMPTY');
    expect(codeOf('redis://a:1,,redis://b:2')).toBe('REDIS_URL_INVALID');
    expect(codeOf('localhost:6379')).toBe('REDIS_URL_SCHEME');
    expect(codeOf('not a url')).toBe('REDIS_URL_INVALID');
    expect(codeOf('http://localhost:6379')).toBe('REDIS_URL_SCHEME');
    expect(codeOf('redis://:6379')).toBe('REDIS_URL_INVALID');
    expect(codeOf('redis://host:0')).toBe('REDIS_URL_PORT');
    expect(codeOf('redis://host:99999')).toBe('REDIS_URL_INVALID');
    expect(codeOf('redis://host/abc')).toBe('REDIS_URL_DB');
    expect(codeOf('redis://host?tls=true')).toBe('REDIS_URL_QUERY');
    expect(codeOf('redis://a:1/1,redis://b:2')).toBe('REDIS_CLUSTER_DB');
    expect(codeOf('redis://a:1,rediss://b:2')).toBe('REDIS_CLUSTER_MIXED');
    try {
      parseRedisTarget('ftp://u:hunter2@h');
    } catch (error) {
      expect((error as StoreConfigError).fix.length).toBeGreaterThan(10);
      expect((error as Error).message).toContain('REDIS_URL_SCHEME');
    }
  });

  it('never puts a password into an error message', () => {
    for (const input of ['ftp://u:hunter2@h', 'redis://u:hunter2@h/x', 'redis://:hunter2@h:0', 'redis//u:hunter2@h', 'redis://u:hunter2@h?a=1']) {
      try {
        parseRedisTarget(input);
        expect.unreachable(input);
      } catch (error) {
        expect((error as Error).message).not.toContain('hunter2');
      }
    }
    expect(redactUrl('redis://u:pw@h:1')).toBe('redis://***@h:1');
    expect(redactUrl('redis://h:1')).toBe('redis://h:1');
  });
});

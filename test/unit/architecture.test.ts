import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The boundaries of docs/architecture.md, checked on the source: each rule is a set of
 * folders that may not import (at run time) what the rule forbids. A type-only import crosses
 * nothing at run time and is allowed.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = join(root, 'src');

interface Import {
  readonly file: string;
  readonly target: string;
  readonly typeOnly: boolean;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const imports: Import[] = sources(src).flatMap((path) => {
  const text = readFileSync(path, 'utf8');
  const file = relative(src, path);
  return [...text.matchAll(/^(import|export)( type)? [^;]*? from '([^']+)';/gms)].map((m) => {
    const spec = m[3] as string;
    const target = spec.startsWith('.') ? relative(src, resolve(dirname(path), spec)).replace(/\.js$/, '.ts') : spec;
    return { file, target, typeOnly: m[2] !== undefined };
  });
});

const folder = (path: string) => (path.includes('/') ? path.slice(0, path.indexOf('/')) : path);
const runtime = imports.filter((i) => !i.typeOnly);

describe('architecture boundaries', () => {
  it('reads the sources (the rules below are not vacuous)', () => {
    expect(imports.length).toBeGreaterThan(200);
    expect(runtime.some((i) => folder(i.file) === 'routes' && i.target.startsWith('http/'))).toBe(true);
  });

  it('signals are pure: they import nothing at run time but zxcvbn', () => {
    expect(runtime.filter((i) => folder(i.file) === 'signals' && i.target !== 'zxcvbn')).toEqual([]);
  });

  it('only stores talk to Redis and to rate-limiter-flexible', () => {
    const clients = runtime.filter((i) => /^(ioredis|rate-limiter-flexible)/.test(i.target) && folder(i.file) !== 'stores');
    expect(clients).toEqual([]);
  });

  it('routes never touch a store or its key layout: they speak to the engine', () => {
    expect(runtime.filter((i) => folder(i.file) === 'routes' && folder(i.target) === 'stores')).toEqual([]);
  });

  it('nothing below the routes depends on them at run time', () => {
    const below = ['engine', 'signals', 'stores', 'identity', 'challenges', 'http', 'corpus', 'leaks', 'passwords', 'errors', 'config'];
    expect(runtime.filter((i) => below.includes(folder(i.file)) && folder(i.target) === 'routes')).toEqual([]);
  });

  it('http helpers and identity sit below the engine; errors depend on nothing', () => {
    expect(runtime.filter((i) => ['http', 'identity', 'signals', 'stores'].includes(folder(i.file)) && folder(i.target) === 'engine')).toEqual([]);
    expect(imports.filter((i) => folder(i.file) === 'errors')).toEqual([]);
  });

  it('the root holds only the entry point and the factory', () => {
    const loose = readdirSync(src, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
    expect(loose.sort()).toEqual(['index.ts', 'shield.ts']);
  });
});

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * The package as a user gets it: `dist/` built if missing or older than the sources, packed
 * with `npm pack` into a temporary directory, and installed from that tarball into fresh
 * consumer projects (dependencies from the npm cache, else the registry).
 */

const run = promisify(execFile);
export const root = resolve(import.meta.dirname, '../..');
export const tsc = join(root, 'node_modules/typescript/bin/tsc');

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

async function isStale(): Promise<boolean> {
  let built: number;
  try {
    built = (await stat(join(root, 'dist/index.js'))).mtimeMs;
  } catch {
    return true;
  }
  const inputs = [await newestMtime(join(root, 'src'))];
  for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json']) inputs.push((await stat(join(root, file))).mtimeMs);
  return Math.max(...inputs) > built;
}

/**
 * `npm run build` unless dist/ is fresh (as after `.ci/run`'s build step). Two test files may
 * ask at once: a lock directory lets one build while the other waits, then re-checks.
 */
export async function ensureBuilt(): Promise<void> {
  const lock = join(root, '.tmp/package-build.lock');
  await mkdir(join(root, '.tmp'), { recursive: true });
  for (;;) {
    if (!(await isStale())) return;
    try {
      await mkdir(lock);
    } catch {
      // Another file builds (or a crashed run left the lock: give up waiting after 2 minutes).
      const since = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (since > 120_000) await rm(lock, { recursive: true, force: true });
      await new Promise((done) => setTimeout(done, 500));
      continue;
    }
    try {
      if (await isStale()) await run('npm', ['run', 'build'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
      return;
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  }
}

export interface Packed {
  readonly dir: string;
  readonly tarball: string;
  /** Paths inside the package, as `npm pack` lists them. */
  readonly files: string[];
}

/** Build if needed and pack into a fresh temporary directory. */
export async function pack(): Promise<Packed> {
  await ensureBuilt();
  const dir = await mkdtemp(join(tmpdir(), 'account-shield-pack-'));
  // --ignore-scripts: the build above already ran; `prepack` would rebuild under our feet.
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  const [info] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
  return { dir, tarball: join(dir, info.filename), files: info.files.map((f) => f.path).sort() };
}

export interface Consumer {
  readonly dir: string;
  /** `node` in the consumer's directory. */
  node(args: string[], env?: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }>;
  /** The repository's TypeScript, on the consumer's own tsconfig. */
  typecheck(project?: string): Promise<{ ok: boolean; output: string }>;
}

/**
 * A fresh project under `packed.dir` with `type` module or commonjs, the tarball and `deps`
 * installed, and `files` written into it.
 */
export async function consumer(
  packed: Packed,
  name: string,
  options: { type: 'module' | 'commonjs'; deps: string[]; files: Record<string, string> },
): Promise<Consumer> {
  const dir = join(packed.dir, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: options.type }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', packed.tarball, ...options.deps], {
    cwd: dir,
    maxBuffer: 16 * 1024 * 1024,
  });
  for (const [file, text] of Object.entries(options.files)) {
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), text);
  }
  return {
    dir,
    node: (args, env) => run(process.execPath, args, { cwd: dir, env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env }, timeout: 30_000 }),
    typecheck: async (project = 'tsconfig.json') => {
      try {
        const { stdout } = await run(process.execPath, [tsc, '-p', join(dir, project)], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
        return { ok: true, output: stdout };
      } catch (error) {
        const e = error as { stdout?: string; stderr?: string };
        return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
      }
    },
  };
}

/** A strict tsconfig for a consumer: what a careful app compiles with. */
export function strictTsconfig(module: 'nodenext', include: string[], outDir?: string): string {
  return JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module,
      moduleResolution: module,
      strict: true,
      // Libraries' own declarations are not ours to check (and @types/node alone takes long);
      // the apps' probes (`@ts-expect-error` on misuse) catch a type that silently became `any`.
      skipLibCheck: true,
      types: ['node'],
      ...(outDir ? { outDir, noEmitOnError: true } : { noEmit: true }),
    },
    include,
  });
}

interface LockEntry {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/**
 * The installed packages `account-shield` pulls in itself (its dependencies, transitively, as
 * npm placed them), excluding peers: what installing the tarball adds to an app.
 */
export async function installedClosure(dir: string): Promise<string[]> {
  const lock = JSON.parse(await readFile(join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    const entry = lock.packages[path];
    for (const dep of Object.keys({ ...entry?.dependencies, ...entry?.optionalDependencies })) {
      // Node's lookup: the nearest node_modules up from the dependent package.
      let base = path;
      for (;;) {
        const candidate = `${base}/node_modules/${dep}`;
        if (lock.packages[candidate]) {
          visit(candidate);
          break;
        }
        const up = base.lastIndexOf('/node_modules/');
        if (up === -1) {
          if (lock.packages[`node_modules/${dep}`]) visit(`node_modules/${dep}`);
          break;
        }
        base = base.slice(0, up);
      }
    }
  };
  visit('node_modules/account-shield');
  seen.delete('node_modules/account-shield');
  return [...seen].sort();
}

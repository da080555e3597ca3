import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * The processes a cost bench measures run as plain JavaScript on the compiled package: no tsx
 * loader in them (it resolves `account-shield` to `src/` through tsconfig paths and turns on
 * source maps), only `node` running `dist/` as a user's app would.
 *
 * A bench script is transpiled (TypeScript's own `transpileModule`, types erased, nothing
 * bundled) with every relative module it imports into `.tmp/bench-js/`, keeping the layout, so
 * inside the repository `account-shield` resolves to the package itself: `dist/index.js`
 * through package.json's `exports`.
 */
const ROOT = resolve(import.meta.dirname, '..', '..');
const OUT = join(ROOT, '.tmp', 'bench-js');

/** Path of the runnable `.js` for a bench script given relative to the repository root. */
export async function compiledScript(entry: string): Promise<string> {
  assertBuilt();
  const done = new Set<string>();
  const pending = [resolve(ROOT, entry)];
  while (pending.length > 0) {
    const source = pending.pop() as string;
    if (done.has(source)) continue;
    done.add(source);
    const { outputText } = ts.transpileModule(await readFile(source, 'utf8'), {
      fileName: source,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true, sourceMap: false },
    });
    const target = join(OUT, relative(ROOT, source)).replace(/\.ts$/, '.js');
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, outputText);
    for (const match of outputText.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)) {
      const imported = resolve(dirname(source), `${match[1]}.ts`);
      if (!imported.startsWith(ROOT) || relative(ROOT, imported).startsWith('src')) {
        throw new Error(`${relative(ROOT, source)} imports ${match[1]}.js: a measured bench script must reach the shield through 'account-shield' (dist/), not a relative path`);
      }
      pending.push(imported);
    }
  }
  return join(OUT, entry).replace(/\.ts$/, '.js');
}

/** `dist/` exists and is newer than every file in `src/`, so what runs is what the sources say. */
export function assertBuilt(): void {
  const index = join(ROOT, 'dist', 'index.js');
  if (!existsSync(index)) throw new Error('dist/index.js is missing: run `npm run build` first (the npm bench scripts do)');
  const built = statSync(index).mtimeMs;
  const newer = newestIn(join(ROOT, 'src'));
  if (newer.mtimeMs > built) throw new Error(`${relative(ROOT, newer.path)} is newer than dist/: run \`npm run build\` first (the npm bench scripts do)`);
}

function newestIn(dir: string): { path: string; mtimeMs: number } {
  let newest = { path: dir, mtimeMs: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const { mtimeMs } = statSync(path);
    if (mtimeMs > newest.mtimeMs) newest = { path, mtimeMs };
  }
  return newest;
}

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The real `account-shield` entry point in a child process: exit codes, stdout and stderr
// are what an operator sees.
const root = resolve(import.meta.dirname, '../..');
// Resolved from the repository, since the child runs in a temporary directory.
const tsxLoader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const SECRET = 'cli test secret, long enough for the shield';
const OTHER_SECRET = 'another secret, also long enough for it';
let dir: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], options: { env?: Record<string, string | undefined>; input?: string } = {}): Promise<Result> {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], SHIELD_SECRET: SECRET };
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      ['--import', tsxLoader, join(root, 'src/cli/main.ts'), ...args],
      { cwd: dir, env, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

const sha1 = (s: string) => createHash('sha1').update(s, 'utf8').digest('hex').toUpperCase();
const PASSWORDS = ['Sup3r$ecretPa55', 'hunter2-combolist', 'csv-password-42'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'account-shield-cli-'));
  await writeFile(
    join(dir, 'combo.txt'),
    [
      `Alice@Example.com:${PASSWORDS[0]}`,
      `bob.smith+promo@googlemail.com:${PASSWORDS[1]}`,
      `broken line without address:${PASSWORDS[0]}`,
      'carol@example.com',
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'users.csv'), `id,email,password\n1,dave@example.com,${PASSWORDS[2]}\n2,not-an-email,${PASSWORDS[2]}\n`);
  await writeFile(join(dir, 'plain.txt'), 'erin@example.com\n');
  await writeFile(join(dir, 'no-email.csv'), 'id,name\n1,x\n');
  await writeFile(join(dir, 'secret.key'), `${SECRET}\n`);
  await writeFile(join(dir, 'empty.key'), '\n');
  await writeFile(join(dir, 'pwned.txt'), `${sha1('password')}:10434004\n${sha1('letmein')}:3\nnot-a-hash\n`);
  await mkdir(join(dir, 'a-directory'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('account-shield', () => {
  it('prints usage and exits 2 without a command, 0 with --help', async () => {
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/usage: account-shield COMMAND/);
    expect(none.stderr).toMatch(/leaks\s+build, check/);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/passwords\s+build, check/);
  });

  it('exits 2 on an unknown command or subcommand', async () => {
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    const sub = await cli(['leaks', 'frobnicate']);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toMatch(/unknown leaks command 'frobnicate'/);
    const bare = await cli(['leaks']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/leaks build INPUT/);
  });

  it('prints its version, and the help of one subcommand', async () => {
    const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(await cli(['--version'])).toMatchObject({ code: 0, stdout: `${manifest.version}\n` });
    const build = await cli(['leaks', 'build', '--help']);
    expect(build.code).toBe(0);
    expect(build.stdout).toMatch(/leaks build INPUT/);
    expect(build.stdout).not.toMatch(/leaks check|leaks info/);
    expect(build.stdout).toMatch(/Exit codes: 0 .* 2 any error/s);
    const check = await cli(['passwords', 'check', '-h']);
    expect(check.stdout).toMatch(/passwords check FILE/);
    expect(check.stdout).not.toMatch(/passwords build/);
    const lock = await cli(['lock', '--help']);
    expect(lock.code).toBe(0);
    expect(lock.stdout).toMatch(/account-shield lock USER_ID/);
    expect(lock.stdout).not.toMatch(/account-shield unlock/);
  });

  it('answers a negative number with the range it must be in, not with an option-parsing riddle', async () => {
    const minCount = await cli(['passwords', 'build', 'pwned.txt', '--out', 'x.bin', '--min-count', '-5']);
    expect(minCount.code).toBe(2);
    expect(minCount.stderr).toMatch(/--min-count must be a whole number of at least 1, got "-5"/);
    const bits = await cli(['leaks', 'build', 'plain.txt', '-o', 'x.bin', '--fingerprint-bits', '-8']);
    expect(bits.stderr).toMatch(/--fingerprint-bits must be 8 or 16/);
    const hours = await cli(['lock', 'u1', '--hours', '-1', '--reason', 'x', '--redis', 'redis://127.0.0.1:1']);
    expect(hours.code).toBe(2);
    expect(hours.stderr).toMatch(/--hours must be a number above 0 and at most 8784, got "-1"/);
    expect(hours.stderr).not.toMatch(/ambiguous/);
  });
});

describe('account-shield leaks build / check / info', () => {
  it('builds from a combolist and a CSV without the passwords reaching output or file', async () => {
    const build = await cli(['leaks', 'build', 'combo.txt', 'users.csv', '--out', 'leaks.bin']);
    expect(build.code).toBe(0);
    expect(build.stdout).toMatch(/wrote leaks\.bin: 4 addresses \(0 duplicates, 2 invalid lines skipped\)/);
    expect(build.stdout).toMatch(/expected FPR 0\.391%/);
    const bytes = await readFile(join(dir, 'leaks.bin'));
    for (const password of PASSWORDS) {
      expect(bytes.includes(Buffer.from(password))).toBe(false);
      expect(build.stdout + build.stderr).not.toContain(password);
    }
    for (const address of ['alice', 'example.com', 'googlemail', 'bobsmith']) {
      expect(bytes.includes(Buffer.from(address))).toBe(false);
      expect(build.stdout + build.stderr).not.toContain(address);
    }

    const leaked = await cli(['leaks', 'check', 'leaks.bin', 'bobsmith@gmail.com']);
    expect(leaked).toMatchObject({ code: 0, stdout: 'leaked\n', stderr: '' });
    const csvMember = await cli(['leaks', 'check', 'leaks.bin', 'DAVE@example.com', '--secret-file', 'secret.key'], {
      env: { SHIELD_SECRET: undefined },
    });
    expect(csvMember).toMatchObject({ code: 0, stdout: 'leaked\n' });
    const notLeaked = await cli(['leaks', 'check', 'leaks.bin', 'zed@example.com']);
    expect(notLeaked).toMatchObject({ code: 1, stdout: 'not leaked\n' });

    const info = await cli(['leaks', 'info', 'leaks.bin']);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/addresses:\s+4\n/);
    expect(info.stdout).toMatch(/bits per address:\s+\d+\.\d\d/);
    expect(info.stdout).toMatch(/expected FPR:\s+0\.391% \(1 in 256\)/);
    expect(info.stdout).toMatch(/built at:\s+\d{4}-\d\d-\d\dT/);
    expect(info.stdout).toMatch(/key:\s+matches the given secret/);
    const json = await cli(['leaks', 'info', 'leaks.bin', '--json'], { env: { SHIELD_SECRET: OTHER_SECRET } });
    expect(JSON.parse(json.stdout)).toMatchObject({ count: 4, skipped: 2, fingerprintBits: 8, keyMatches: false });
  });

  it('checks against a plain list too', async () => {
    expect(await cli(['leaks', 'check', 'plain.txt', 'Erin@Example.com'])).toMatchObject({ code: 0, stdout: 'leaked\n' });
  });

  it('builds a 16-bit corpus', async () => {
    const build = await cli(['leaks', 'build', 'plain.txt', '-o', 'plain16.bin', '--fingerprint-bits', '16']);
    expect(build.code).toBe(0);
    expect(build.stdout).toMatch(/expected FPR 0\.00153%/);
  });

  it.each([
    ['no input', ['leaks', 'build', '--out', 'x.bin'], /at least one INPUT/],
    ['no --out', ['leaks', 'build', 'plain.txt'], /needs --out FILE/],
    ['a missing input', ['leaks', 'build', 'missing.txt', '--out', 'x.bin'], /cannot read input missing\.txt: no such file/],
    ['a directory input', ['leaks', 'build', 'a-directory', '--out', 'x.bin'], /a-directory: not a regular file/],
    ['an unknown option', ['leaks', 'build', 'plain.txt', '--out', 'x.bin', '--fast'], /Unknown option '--fast'/],
    ['a bad format', ['leaks', 'build', 'plain.txt', '--out', 'x.bin', '--format', 'xml'], /--format must be one of/],
    ['bad fingerprint bits', ['leaks', 'build', 'plain.txt', '--out', 'x.bin', '--fingerprint-bits', '12'], /8 or 16/],
    ['--out equal to an input', ['leaks', 'build', 'plain.txt', '--out', './plain.txt'], /must not be one of the INPUT/],
    ['an unwritable output', ['leaks', 'build', 'plain.txt', '--out', 'nope/x.bin'], /cannot write nope\/x\.bin/],
    ['a CSV without an email column', ['leaks', 'build', 'no-email.csv', '--out', 'x.bin'], /no "email" column/],
    ['a missing secret file', ['leaks', 'build', 'plain.txt', '--out', 'x.bin', '--secret-file', 'nokey'], /cannot read secret file nokey/],
    ['an empty secret file', ['leaks', 'build', 'plain.txt', '--out', 'x.bin', '--secret-file', 'empty.key'], /is empty/],
  ])('build exits 2 on %s', async (_, args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it.skipIf(process.getuid?.() === 0)('build exits 2 on an input it may not read', async () => {
    await writeFile(join(dir, 'locked.txt'), 'a@example.com\n', { mode: 0o000 });
    const result = await cli(['leaks', 'build', 'locked.txt', '--out', 'x.bin']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot read input locked\.txt: permission denied/);
  });

  it('build reads a binary file as invalid lines, exits 2 and keeps the corpus it would have replaced', async () => {
    const noise = Buffer.alloc(200_000);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919 + (i >> 3)) & 0xff;
    await writeFile(join(dir, 'noise.bin.txt'), noise);
    expect((await cli(['leaks', 'build', 'plain.txt', '--out', 'kept.bin'])).code).toBe(0);
    const before = await readFile(join(dir, 'kept.bin'));
    const result = await cli(['leaks', 'build', 'noise.bin.txt', '--out', 'kept.bin']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no valid records in noise\.bin\.txt \([1-9][\d,]* lines read, [1-9][\d,]* invalid\): expected one address a line.*kept\.bin was not written/);
    expect(result.stdout).toBe('');
    expect(await readFile(join(dir, 'kept.bin'))).toEqual(before);
    expect((await readdir(dir)).filter((name) => name.includes('.partial-'))).toEqual([]);
  });

  it('build exits 2 on an input of the wrong format and writes nothing', async () => {
    const leaks = await cli(['leaks', 'build', 'pwned.txt', '--out', 'wrong-format.bin', '--format', 'combo']);
    expect(leaks.code).toBe(2);
    expect(leaks.stderr).toMatch(/no valid records in pwned\.txt .*email:password lines \(--format combo\)/);
    const passwords = await cli(['passwords', 'build', 'plain.txt', '--out', 'wrong-format.bin']);
    expect(passwords.code).toBe(2);
    expect(passwords.stderr).toMatch(/no valid records in plain\.txt \(1 lines read, 1 invalid\): expected SHA1:COUNT lines/);
    const high = await cli(['passwords', 'build', 'pwned.txt', '--out', 'wrong-format.bin', '--min-count', '99999999']);
    expect(high.code).toBe(2);
    expect(high.stderr).toMatch(/2 lines below --min-count 99999999/);
    await expect(readFile(join(dir, 'wrong-format.bin'))).rejects.toThrow(/ENOENT/);
  });

  it('build and check exit 2 on a secret shorter than the shield accepts', async () => {
    await writeFile(join(dir, 'short.key'), 'only-31-characters-long-secret!\n');
    for (const [args, env] of [
      [['leaks', 'build', 'plain.txt', '--out', 'short.bin'], { SHIELD_SECRET: 'cli test secret' }],
      [['passwords', 'build', 'pwned.txt', '--out', 'short.bin', '--secret-file', 'short.key'], {}],
      [['leaks', 'check', 'plain.txt', 'erin@example.com'], { SHIELD_SECRET: 'x'.repeat(31) }],
    ] as [string[], Record<string, string>][]) {
      const result = await cli(args, { env });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/is (15|31) characters long; the shield refuses secrets under 32 \(WEAK_SECRET\)/);
      expect(result.stdout).toBe('');
    }
    await expect(readFile(join(dir, 'short.bin'))).rejects.toThrow(/ENOENT/);
  });

  it('build and check exit 2 without a key', async () => {
    const build = await cli(['leaks', 'build', 'plain.txt', '--out', 'x.bin'], { env: { SHIELD_SECRET: undefined } });
    expect(build.code).toBe(2);
    expect(build.stderr).toMatch(/no key: set SHIELD_SECRET or pass --secret-file/);
    const check = await cli(['leaks', 'check', 'plain.txt', 'a@example.com'], { env: { SHIELD_SECRET: '' } });
    expect(check.code).toBe(2);
  });

  it('check and info exit 2 on missing, truncated, foreign and wrongly keyed files', async () => {
    await cli(['leaks', 'build', 'plain.txt', '--out', 'good.bin']);
    const good = await readFile(join(dir, 'good.bin'));
    await writeFile(join(dir, 'truncated.bin'), good.subarray(0, good.length - 3));
    const flipped = Buffer.from(good);
    flipped[flipped.length - 1] = flipped[flipped.length - 1]! ^ 1;
    await writeFile(join(dir, 'corrupt.bin'), flipped);

    const cases: [string[], RegExp, Record<string, string>?][] = [
      [['leaks', 'check', 'missing.bin', 'a@example.com'], /cannot read leaked-address file missing\.bin: no such file/],
      [['leaks', 'check', 'truncated.bin', 'a@example.com'], /truncated/],
      [['leaks', 'check', 'corrupt.bin', 'a@example.com'], /checksum mismatch/],
      [['leaks', 'check', 'good.bin', 'a@example.com'], /built under a different key/, { SHIELD_SECRET: OTHER_SECRET }],
      [['leaks', 'check', 'good.bin', 'not an address'], /not a valid email address/],
      [['leaks', 'check', 'good.bin'], /needs FILE and ADDRESS/],
      [['leaks', 'info', 'missing.bin'], /cannot read missing\.bin: no such file/],
      [['leaks', 'info', 'plain.txt'], /not an account-shield corpus file/],
      [['leaks', 'info', 'truncated.bin'], /truncated/],
      [['leaks', 'info'], /exactly one FILE/],
    ];
    for (const [args, message, env] of cases) {
      const result = await cli(args, { env });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe('');
    }
  });
});

describe('account-shield passwords', () => {
  it('builds from a HIBP file, checks a password from stdin, describes the file', async () => {
    const build = await cli(['passwords', 'build', 'pwned.txt', '--out', 'pwned.bin']);
    expect(build.code).toBe(0);
    expect(build.stdout).toMatch(/wrote pwned\.bin: 2 password hashes \(0 duplicates, 1 invalid lines skipped/);
    const bytes = await readFile(join(dir, 'pwned.bin'));
    expect(bytes.includes(Buffer.from(sha1('password').slice(0, 20), 'hex'))).toBe(false);

    expect(await cli(['passwords', 'check', 'pwned.bin'], { input: 'password\n' })).toMatchObject({
      code: 0,
      stdout: 'breached\n',
    });
    const fresh = await cli(['passwords', 'check', 'pwned.bin'], { input: 'a fresh one 93jx\r\n' });
    expect(fresh).toMatchObject({ code: 1, stdout: 'not breached\n' });
    expect(fresh.stderr).not.toContain('fresh');
    expect((await cli(['passwords', 'check', 'pwned.bin'], { input: '' })).stderr).toMatch(/no password on stdin/);

    const info = await cli(['passwords', 'info', 'pwned.bin']);
    expect(info.stdout).toMatch(/passwords:\s+2\n/);
  });

  it('exits 2 when a corpus of the other kind is given', async () => {
    await cli(['leaks', 'build', 'plain.txt', '--out', 'addresses.bin']);
    const check = await cli(['passwords', 'check', 'addresses.bin'], { input: 'password\n' });
    expect(check.code).toBe(2);
    expect(check.stderr).toMatch(/is a leaked-address corpus, expected a breached-password corpus/);
    const info = await cli(['leaks', 'info', 'pwned.bin']);
    expect(info.code).toBe(2);
    expect((await cli(['passwords', 'build', 'pwned.txt', '--out', 'x.bin', '--min-count', '0'])).code).toBe(2);
  });
});

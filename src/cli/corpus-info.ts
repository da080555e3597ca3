/**
 * `leaks info` / `passwords info`: what a corpus file holds, without needing its key. With a
 * key (SHIELD_SECRET or --secret-file) it also says whether the file was built under it, the
 * usual reason a deployed corpus answers "not leaked" for everyone.
 */
import { readFile } from 'node:fs/promises';
import { type CorpusKind, decodeCorpus } from '../corpus/corpus-file.js';
import { describeFsError } from '../corpus/errors.js';
import { KeyedHasher } from '../corpus/keyed-hash.js';
import { type CliIo, CliError, EXIT_OK, formatCount, optionalSecret } from './common.js';

interface KindLabels {
  readonly kind: string;
  readonly noun: string;
  readonly plural: string;
  readonly purpose: 'leaked-addresses' | 'breached-passwords';
}

const LABELS: Record<CorpusKind, KindLabels> = {
  addresses: { kind: 'leaked addresses', noun: 'address', plural: 'addresses', purpose: 'leaked-addresses' },
  passwords: { kind: 'breached passwords', noun: 'password', plural: 'passwords', purpose: 'breached-passwords' },
};

export async function runCorpusInfo(
  kind: CorpusKind,
  file: string,
  values: Record<string, string | boolean | undefined>,
  io: CliIo,
): Promise<number> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${describeFsError(error)}`, { cause: error });
  }
  const { header, bitsPerMember, filter } = decodeCorpus(bytes, { kind, source: file });
  const secret = await optionalSecret(values['secret-file'], io);
  const keyMatches = secret === undefined ? undefined : new KeyedHasher(secret, LABELS[kind].purpose).keyId.equals(header.keyId);
  const fpr = filter.expectedFalsePositiveRate;
  const info = {
    file,
    kind: LABELS[kind].kind,
    formatVersion: header.version,
    count: header.count,
    bitsPerMember: Number(bitsPerMember.toFixed(3)),
    fingerprintBits: header.fingerprintBits,
    expectedFalsePositiveRate: fpr,
    skipped: header.skipped,
    duplicates: header.duplicates,
    builtAt: header.builtAt.toISOString(),
    fileBytes: bytes.length,
    keyId: header.keyId.toString('hex'),
    keyMatches,
  };
  if (values['json'] === true) {
    io.out(JSON.stringify(info, null, 2));
    return EXIT_OK;
  }
  const { noun, plural } = LABELS[kind];
  const rows: [string, string][] = [
    ['file', file],
    ['kind', info.kind],
    ['format version', String(info.formatVersion)],
    [plural, formatCount(info.count)],
    [`bits per ${noun}`, bitsPerMember.toFixed(2)],
    ['fingerprint', `${info.fingerprintBits} bits`],
    ['expected FPR', `${(fpr * 100).toPrecision(3)}% (1 in ${formatCount(Math.round(1 / fpr))})`],
    ['skipped lines', formatCount(info.skipped)],
    ['duplicates', formatCount(info.duplicates)],
    ['built at', info.builtAt],
    ['size', `${formatCount(info.fileBytes)} bytes`],
    ['key id', info.keyId],
  ];
  if (keyMatches !== undefined) rows.push(['key', keyMatches ? 'matches the given secret' : 'DIFFERENT from the given secret']);
  const width = Math.max(...rows.map(([label]) => label.length)) + 1;
  for (const [label, value] of rows) io.out(`${`${label}:`.padEnd(width + 1)}${value}`);
  return EXIT_OK;
}

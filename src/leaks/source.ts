/**
 * What the shield asks about leaked addresses, and the loader behind it: one path that may be
 * a plain list or a built corpus file, hot-reloaded on change or SIGHUP. A reload reads and
 * validates the new file completely before one reference swap, so a request sees the old
 * data or the new, never a mix and never an error; a reload that fails keeps the old data.
 */
import { type FSWatcher, watch } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { type AddressSet, addressSetFromIterable, loadAddressList } from './address-list.js';
import { CORPUS_MAGIC, decodeCorpus, looksLikeCorpus } from '../corpus/corpus-file.js';
import { describeFsError, LeakCorpusError } from '../corpus/errors.js';
import type { BinaryFuseFilter } from '../corpus/filter-binary-fuse.js';
import { KeyedHasher, type Secret } from '../corpus/keyed-hash.js';
import { normaliseAddress } from './normalise.js';

export interface LeakedAddressStats {
  readonly kind: 'list' | 'corpus';
  /** Distinct addresses. */
  readonly count: number;
  /** Lines that were not valid addresses (for a corpus: when it was built). */
  readonly skipped: number;
  /** ms since the epoch. */
  readonly loadedAt: number;
  /** Corpus only: file bits per address. */
  readonly bitsPerAddress?: number;
  /** Corpus only: probability that an address not in the corpus is reported leaked. */
  readonly expectedFalsePositiveRate?: number;
  /** Corpus only: ms since the epoch. */
  readonly builtAt?: number;
}

export interface LeakedAddressSource {
  /** `address` is raw user input; the source normalises and keys it itself. */
  has(address: string): boolean;
  readonly size: number;
  readonly stats: LeakedAddressStats;
  /** Stops watchers and signal handlers. */
  close(): void;
}

export interface ReloadableLeakedAddressSource extends LeakedAddressSource {
  readonly path: string;
  /** Loads the file again now; resolves `false` (and calls `onError`) if it was refused. */
  reload(): Promise<boolean>;
}

export interface LoadLeakedAddressesOptions {
  readonly secret: Secret;
  /** Reload on file change and on SIGHUP. Default false. */
  readonly watch?: boolean;
  readonly onReload?: (stats: LeakedAddressStats) => void;
  readonly onError?: (error: Error) => void;
  /** Quiet period after the last change event before reloading. Default 200 ms. */
  readonly debounceMs?: number;
}

interface Snapshot {
  readonly stats: LeakedAddressStats;
  /** Identity of the file loaded, to ignore change events that changed nothing. */
  readonly fileId: string;
  matches(digest: Buffer): boolean;
}

/**
 * Loads `path` (a plain list or a corpus file, told apart by the corpus magic). Rejects with
 * `LeakCorpusError` for an unreadable, truncated, corrupted or wrongly keyed file.
 */
export async function loadLeakedAddresses(
  path: string,
  options: LoadLeakedAddressesOptions,
): Promise<ReloadableLeakedAddressSource> {
  const hasher = new KeyedHasher(options.secret, 'leaked-addresses');
  const first = await loadSnapshot(path, hasher);
  return new FileLeakSource(path, hasher, first, options);
}

/** An in-memory source over addresses (raw; invalid ones are skipped and counted). */
export function leakedAddressesFromList(addresses: Iterable<string>, secret: Secret): LeakedAddressSource {
  const hasher = new KeyedHasher(secret, 'leaked-addresses');
  const snapshot = listSnapshot(addressSetFromIterable(addresses, hasher), 'memory');
  return {
    has: (address) => matchAddress(hasher, snapshot, address),
    size: snapshot.stats.count,
    stats: snapshot.stats,
    close: () => {},
  };
}

function matchAddress(hasher: KeyedHasher, snapshot: Snapshot, address: string): boolean {
  const normalised = normaliseAddress(address);
  return normalised !== null && snapshot.matches(hasher.digest(normalised));
}

class FileLeakSource implements ReloadableLeakedAddressSource {
  readonly path: string;
  readonly #hasher: KeyedHasher;
  readonly #options: LoadLeakedAddressesOptions;
  #current: Snapshot;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #loading: Promise<boolean> | undefined;
  #again = false;
  #closed = false;
  readonly #onSignal = (): void => void this.reload();

  constructor(path: string, hasher: KeyedHasher, first: Snapshot, options: LoadLeakedAddressesOptions) {
    this.path = path;
    this.#hasher = hasher;
    this.#current = first;
    this.#options = options;
    if (options.watch) this.#startWatching();
  }

  has(address: string): boolean {
    return matchAddress(this.#hasher, this.#current, address);
  }

  get size(): number {
    return this.#current.stats.count;
  }

  get stats(): LeakedAddressStats {
    return this.#current.stats;
  }

  reload(): Promise<boolean> {
    if (this.#loading !== undefined) {
      // A change arrived while loading: load once more afterwards, the file may be newer.
      this.#again = true;
      return this.#loading;
    }
    this.#loading = this.#reloadOnce().finally(() => {
      this.#loading = undefined;
      if (this.#again && !this.#closed) {
        this.#again = false;
        void this.reload();
      }
    });
    return this.#loading;
  }

  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = undefined;
    clearTimeout(this.#timer);
    process.off('SIGHUP', this.#onSignal);
  }

  async #reloadOnce(): Promise<boolean> {
    let next: Snapshot;
    try {
      next = await loadSnapshot(this.path, this.#hasher);
    } catch (error) {
      this.#report(error);
      return false;
    }
    if (this.#closed) return false;
    this.#current = next;
    try {
      this.#options.onReload?.(next.stats);
    } catch (error) {
      this.#report(error);
    }
    return true;
  }

  #startWatching(): void {
    process.on('SIGHUP', this.#onSignal);
    // The directory, not the file: a file watch follows the old inode and goes deaf after the
    // usual atomic replace (write elsewhere, rename over), and k8s swaps a symlink beside it.
    try {
      this.#watcher = watch(dirname(this.path), { persistent: false }, () => this.#schedule());
      this.#watcher.on('error', (error) => this.#report(error));
    } catch (error) {
      this.#report(error);
    }
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#reloadIfChanged(), this.#options.debounceMs ?? 200);
    this.#timer.unref();
  }

  async #reloadIfChanged(): Promise<void> {
    let id: string;
    try {
      id = fileIdentity(await stat(this.path));
    } catch {
      // Gone between an unlink and the new file's arrival; its creation will fire again.
      return;
    }
    if (id !== this.#current.fileId && !this.#closed) await this.reload();
  }

  #report(error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    if (this.#options.onError) this.#options.onError(err);
    else process.emitWarning(`account-shield: leaked-address reload of ${basename(this.path)} failed: ${err.message}`);
  }
}

function fileIdentity(info: { dev: number; ino: number; size: number; mtimeMs: number }): string {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
}

async function loadSnapshot(path: string, hasher: KeyedHasher): Promise<Snapshot> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw readError(path, error);
  }
  let streaming = false;
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new LeakCorpusError('CORPUS_READ', `cannot read ${path}: not a regular file`);
    // An empty file is far more likely a rewrite caught half-way than an intended empty
    // list; taking it would silently answer "not leaked" for everyone.
    if (info.size === 0) throw new LeakCorpusError('CORPUS_TRUNCATED', `${path}: the file is empty`);
    const probe = Buffer.alloc(CORPUS_MAGIC.length);
    const { bytesRead } = await handle.read(probe, 0, probe.length, 0);
    const id = fileIdentity(info);
    const head = probe.subarray(0, bytesRead);
    // A corpus cut inside its magic is still a (truncated) corpus, not a one-line list.
    if (looksLikeCorpus(head) || CORPUS_MAGIC.subarray(0, bytesRead).equals(head)) {
      const bytes = await handle.readFile();
      const corpus = decodeCorpus(bytes, { kind: 'addresses', keyId: hasher.keyId, source: path });
      return corpusSnapshot(corpus.filter, corpus, id);
    }
    streaming = true;
    const list = await loadAddressList(handle.createReadStream({ start: 0, highWaterMark: 1 << 20 }), hasher);
    return listSnapshot(list, id);
  } catch (error) {
    throw error instanceof LeakCorpusError ? error : readError(path, error);
  } finally {
    // The read stream owns (and closes) the handle once created.
    if (!streaming) await handle.close().catch(() => {});
  }
}

function readError(path: string, error: unknown): LeakCorpusError {
  return new LeakCorpusError('CORPUS_READ', `cannot read leaked-address file ${path}: ${describeFsError(error)}`, {
    cause: error,
  });
}

function listSnapshot(list: AddressSet, fileId: string): Snapshot {
  return {
    fileId,
    stats: { kind: 'list', count: list.size, skipped: list.skipped, loadedAt: Date.now() },
    matches: (digest) => list.hasDigest(digest),
  };
}

function corpusSnapshot(
  filter: BinaryFuseFilter,
  corpus: ReturnType<typeof decodeCorpus>,
  fileId: string,
): Snapshot {
  return {
    fileId,
    stats: {
      kind: 'corpus',
      count: corpus.header.count,
      skipped: corpus.header.skipped,
      loadedAt: Date.now(),
      bitsPerAddress: corpus.bitsPerMember,
      expectedFalsePositiveRate: filter.expectedFalsePositiveRate,
      builtAt: corpus.header.builtAt.getTime(),
    },
    matches: (digest) => filter.contains(digest.readUInt32LE(0), digest.readUInt32LE(4)),
  };
}

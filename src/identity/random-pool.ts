import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;

/**
 * Random bytes from the operating system's CSPRNG, fetched 4 KiB at a time and handed out once
 * each (the way Node's own `randomUUID` caches entropy). A step-up answer needs a token and an
 * IV, and `randomBytes` costs a call into OpenSSL each, ~2 µs, where a slice of the pool costs
 * ~0.1 µs; every stuffed login is such an answer.
 */
class RandomPool {
  private readonly pool = Buffer.alloc(POOL_BYTES);
  private offset = POOL_BYTES;

  /** `size` fresh bytes, copied out (the pool's own bytes are never handed out twice). */
  bytes(size: number): Buffer {
    if (size > POOL_BYTES) return randomFillSync(Buffer.alloc(size));
    return Buffer.from(this.take(size));
  }

  /** `size` fresh bytes as base64url. */
  base64url(size: number): string {
    if (size > POOL_BYTES) return randomFillSync(Buffer.alloc(size)).toString('base64url');
    return this.take(size).toString('base64url');
  }

  private take(size: number): Buffer {
    if (this.offset + size > POOL_BYTES) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const view = this.pool.subarray(this.offset, this.offset + size);
    this.offset += size;
    return view;
  }
}

export const random = new RandomPool();

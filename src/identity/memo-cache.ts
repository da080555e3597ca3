/**
 * A size-bounded memo (oldest entries dropped first). Returning users present the same
 * address, IP and device again and again; keying them costs an HMAC each time, which is most
 * of the shield's own CPU per login. The bound keeps an attacker rotating identifiers from
 * growing it: a miss costs one Map insert and, when full, one delete.
 */
export class MemoCache<V> {
  private readonly map = new Map<string, V>();

  constructor(private readonly max: number) {}

  get(key: string, compute: () => V): V {
    const hit = this.map.get(key);
    if (hit !== undefined) return hit;
    const value = compute();
    this.set(key, value);
    return value;
  }

  /** The remembered value, if any (nothing is computed). */
  peek(key: string): V | undefined {
    return this.map.get(key);
  }

  set(key: string, value: V): void {
    if (this.map.size >= this.max) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(key, value);
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}

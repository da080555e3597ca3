import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/stores/memory.js';
import { blankNotes, COUNTER_NOTE, STRIPES, stripeOf, VALUE_NOTE } from '../../src/stores/read-notes.js';
import { type CounterSpec, ReadHints, type ReadRequest } from '../../src/stores/store.js';

/**
 * A returning device's kept read carries hints, and the embedded store answers it from notes
 * while nothing changed what they noted. These tests hold the notes to their one promise: a
 * read with hints answers exactly what the same read without them answers, whatever happened
 * in between — writes, increments, refunds, resets, takes, expiries, a clock set back, and
 * evictions under tight caps.
 */

const specs: CounterSpec[] = [
  { name: 'fail_ip', points: 5, durationSec: 60 },
  { name: 'fail_ipacct', points: 3, durationSec: 30 },
  { name: 'listed_ip', points: 4, durationSec: 90 },
];

// Keys shaped like the shield's (keyed ids at the end), few enough that writes hit the read's keys often.
const ids = Array.from({ length: 12 }, (_, i) => `{acct${i % 4}}:K${String.fromCharCode(65 + i)}x${i}Q`);
const valueKeys = Array.from({ length: 10 }, (_, i) => (i % 3 === 0 ? `chal:{t${i}}` : `dev:{acct${i % 4}}:D${i}zz`));

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const stores: MemoryStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

function store(now: () => number, caps: { maxCounters: number; maxKeys: number }): MemoryStore {
  const s = new MemoryStore({ now, ...caps, sweepIntervalMs: 3_600_000 });
  stores.push(s);
  return s;
}

/** The read a returning device keeps: some counters, some keys, and its hints. */
function keptRead(): { withHints: ReadRequest; without: ReadRequest } {
  const counters = [
    { spec: specs[0] as CounterSpec, key: ids[0] as string },
    { spec: specs[1] as CounterSpec, key: ids[1] as string },
    { spec: specs[2] as CounterSpec, key: ids[0] as string },
    { spec: specs[1] as CounterSpec, key: ids[5] as string },
  ];
  const keys = [valueKeys[1] as string, valueKeys[2] as string, valueKeys[3] as string, valueKeys[7] as string];
  return { withHints: { counters, keys, hints: new ReadHints() }, without: { counters, keys } };
}

describe('read notes (the embedded store answering a kept read without lookups)', () => {
  for (const [label, caps] of [
    ['roomy tables', { maxCounters: 1000, maxKeys: 1000 }],
    ['tables at their caps, evicting', { maxCounters: 6, maxKeys: 5 }],
  ] as const) {
    it(`a read with hints answers what the same read without them answers, after every kind of change (${label})`, async () => {
      for (const seed of [1, 2, 3]) {
        const random = lcg(seed);
        let clock = 1_000_000;
        const s = store(() => clock, caps);
        const { withHints, without } = keptRead();
        let fromNotes = 0;
        for (let step = 0; step < 3000; step++) {
          const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)] as T;
          const op = random();
          if (op < 0.3) s.sync.add([{ spec: pick(specs), key: pick(ids), points: random() < 0.8 ? 1 : -1 }]);
          else if (op < 0.38) s.sync.reset([{ spec: pick(specs), key: pick(ids) }]);
          else if (op < 0.55) s.sync.set(pick(valueKeys), `v${step}`, 1000 + Math.floor(random() * 60_000));
          else if (op < 0.62) await s.delete(pick(valueKeys));
          else if (op < 0.67) await s.take(pick(valueKeys));
          else if (op < 0.72) await s.increment(pick(valueKeys), 20_000);
          else if (op < 0.92) clock += Math.floor(random() * 5_000);
          else clock -= Math.floor(random() * 3_000); // a clock set back (NTP): notes must not outlive what a lookup sees
          // Notes left as they were: the read was answered from them (a lookup notes a new version).
          const notesBefore = withHints.hints?.numbers?.join();
          const noted = s.sync.read(withHints);
          if (notesBefore !== undefined && notesBefore === withHints.hints?.numbers?.join()) fromNotes++;
          expect(noted, `seed ${seed}, step ${step}`).toEqual(s.sync.read(without));
          // And again at once: the notes just taken answer it.
          expect(s.sync.read(withHints)).toEqual(noted);
        }
        // The notes were used, not merely harmless: many reads came from them.
        expect(fromNotes).toBeGreaterThan(100);
      }
    });
  }

  it('notes taken by one store are not trusted by another', () => {
    let clock = 1_000_000;
    const a = store(() => clock, { maxCounters: 100, maxKeys: 100 });
    const b = store(() => clock, { maxCounters: 100, maxKeys: 100 });
    const { withHints } = keptRead();
    // The same writes to the same keys, with other values: each store's stripes count alike,
    // so only knowing whose notes they are keeps b from answering a's values.
    a.sync.add([{ spec: specs[0] as CounterSpec, key: ids[0] as string, points: 3 }]);
    a.sync.set(valueKeys[1] as string, 'known', 60_000);
    b.sync.add([{ spec: specs[0] as CounterSpec, key: ids[0] as string, points: 1 }]);
    b.sync.set(valueKeys[1] as string, 'other', 60_000);
    expect(a.sync.read(withHints).counters[0]?.consumed).toBe(3);
    clock += 1;
    const fromB = b.sync.read(withHints);
    expect(fromB.counters[0]?.consumed).toBe(1);
    expect(fromB.values[0]).toBe('other');
    expect(a.sync.read(withHints).values[0]).toBe('known');
  });

  it('a counter noted missing is seen as soon as anyone makes it', () => {
    const s = store(() => 1_000_000, { maxCounters: 100, maxKeys: 100 });
    const { withHints } = keptRead();
    expect(s.sync.read(withHints).counters[1]?.consumed).toBe(0);
    s.sync.add([{ spec: specs[1] as CounterSpec, key: ids[1] as string, points: 1 }]);
    expect(s.sync.read(withHints).counters[1]?.consumed).toBe(1);
  });

  it('stripes spread keyed ids evenly, and tell counter families apart', () => {
    const seen = new Uint32Array(STRIPES);
    const random = lcg(7);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const keyed = () => Array.from({ length: 43 }, () => alphabet[Math.floor(random() * 64)]).join('');
    const n = STRIPES * 4;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const stripe = stripeOf(`{${keyed()}}:${keyed()}`, 4);
      if (!(stripe >= 0 && stripe < STRIPES)) outside++;
      else seen[stripe] = (seen[stripe] as number) + 1;
    }
    expect(outside).toBe(0);
    // 4 keys per stripe on average, as chance would spread them: about e⁻⁴ of the stripes
    // empty (1.8 %), none holding more than a handful.
    expect(Math.max(...seen)).toBeLessThan(20);
    expect(seen.filter((count) => count === 0).length / STRIPES).toBeLessThan(0.025);
    const key = `{${keyed()}}:${keyed()}`;
    expect(new Set(specs.map((_, family) => stripeOf(key, family))).size).toBe(specs.length);
    // Short and odd keys still get a stripe.
    for (const odd of ['', 'a', 'ab', 'wave', 'all:123']) expect(stripeOf(odd, 0)).toBeLessThan(STRIPES);
    // Blank notes are no notes: every version is -1, which no count is.
    const blank = blankNotes(2, 3);
    expect(blank.numbers.length).toBe(2 * COUNTER_NOTE + 3 * VALUE_NOTE);
    expect([blank.numbers[1], blank.numbers[COUNTER_NOTE + 1], blank.numbers[2 * COUNTER_NOTE + 1], blank.numbers[2 * COUNTER_NOTE + VALUE_NOTE + 1]]).toEqual([-1, -1, -1, -1]);
    expect(blank.strings).toEqual([undefined, undefined, undefined]);
  });
});

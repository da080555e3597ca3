import { describe, expect, it } from 'vitest';
import { decide } from '../../src/engine/policy.js';

const t = { challenge: 50, block: 100 };
const r = (points: number) => ({ signal: 's', points, detail: '', source: true });
const victim = (points: number) => ({ signal: 'v', points, detail: '' });

describe('policy', () => {
  it('allows below the challenge threshold', () => {
    expect(decide([r(25), r(24)], t)).toEqual({ action: 'allow', score: 49 });
  });
  it('challenges from the challenge threshold up to the block threshold', () => {
    expect(decide([r(25), r(25)], t).action).toBe('challenge');
    expect(decide([r(99)], t).action).toBe('challenge');
  });
  it('blocks at the block threshold', () => {
    expect(decide([r(100)], t)).toEqual({ action: 'block', score: 100 });
  });
  it('lets negative points (a known device) pull a score down', () => {
    expect(decide([r(30), r(25), r(-30)], t)).toEqual({ action: 'allow', score: 25 });
  });
  it('never blocks on account-side signals alone: the owner is stepped up instead', () => {
    expect(decide([victim(30), victim(25), victim(25), victim(30)], t)).toEqual({ action: 'challenge', score: 110 });
    expect(decide([victim(60), r(50)], t).action).toBe('block');
  });
  it('honours per-route thresholds', () => {
    expect(decide([r(30)], { challenge: 20, block: 40 }).action).toBe('challenge');
  });
});

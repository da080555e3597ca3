import type { Signal } from './signal.js';

/** Addresses from a known leak are the ones stuffing lists are built from. */
export const leakedAddressSignal: Signal = ({ leakedAddress, config }) =>
  leakedAddress
    ? [{ signal: 'leaked-address', points: config.points.leakedAddress, detail: 'address appears in a known leak' }]
    : [];

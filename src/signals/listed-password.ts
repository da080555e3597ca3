import type { Signal } from './signal.js';

/**
 * The password submitted with this attempt is a common or breached one. It says nothing about
 * whether it is right (both get the same answer), only that whoever sends it works from a
 * list — and a device the account knows is the owner's, who is not scored on it.
 */
export const listedPasswordSignal: Signal = ({ listedPassword, deviceKnown, config }) =>
  listedPassword && !deviceKnown
    ? [{ signal: 'password.listed', points: config.points.listedPassword, detail: 'submitted password is a common or breached one' }]
    : [];

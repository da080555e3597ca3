import type { Signal } from './signal.js';

/**
 * A device that has completed a login for this account before lowers risk; anything else
 * (no cookie, a tampered cookie, or a cookie from another account's device) raises it.
 */
export const deviceSignal: Signal = ({ deviceKnown, config }) =>
  deviceKnown
    ? [{ signal: 'device.known', points: config.points.knownDevice, detail: 'device has logged in to this account before' }]
    : [{ signal: 'device.new', points: config.points.newDevice, detail: 'first login to this account from this device' }];


/** Counters of one demo run, all taken from HTTP answers the simulated clients received. */
export interface Tally {
  /** The guards' name: `shield`, or a baseline's. */
  protection: string;
  users: number;
  leakedTotal: number;
  realLeaked: number;
  reusers: { common: number; unique: number };
  /** Share of the attacker's addresses in the list handed to the shield. */
  coverage: number;
  shieldListSize: number;
  attack: {
    attempts: number;
    blocked: number;
    challenged: number;
    rejected: number;
    other: number;
    /** Attempts whose password was actually right for the address. */
    correctPairs: number;
    /** Tokens handed to the attacker, who never knows a TOTP secret: takeovers without 2FA. */
    takeovers: number;
    /** Of those, accounts whose password was unique to the user (on no common list). */
    takeoversUnique: number;
    validityLeaks: number;
  };
  legit: {
    logins: number;
    succeeded: number;
    knownDevice: number;
    knownDeviceChallenged: number;
    newDevice: number;
    newDeviceChallenged: number;
    typoFirst: number;
    blocked: number;
    failed: number;
  };
  enrolment: { users: number; challenged: number };
  /** Every legitimate user once more from the known device after the wave; who cannot get in is locked out. */
  afterWave: { logins: number; challenged: number; blocked: number; lockedOut: number };
  seconds: number;
}

const pct = (part: number, whole: number) => (whole === 0 ? '' : ` (${((part / whole) * 100).toFixed(1)}%)`);

export function printSummary(t: Tally): void {
  const rows: [string, string][] = [
    ['protection', t.protection],
    ['users / attacker list / real users on it', `${t.users} / ${t.leakedTotal} / ${t.realLeaked}`],
    ['users whose password is on it (common / unique)', `${t.reusers.common + t.reusers.unique} (${t.reusers.common} / ${t.reusers.unique})`],
    ['LEAK COVERAGE', `${Math.round(t.coverage * 100)} % of the attacker's addresses in the shield's list (${t.shieldListSize} addresses, other dumps included)`],
    ['', ''],
    ['STUFFING WAVE', ''],
    ['attempts', String(t.attack.attempts)],
    ['blocked (429)', `${t.attack.blocked}${pct(t.attack.blocked, t.attack.attempts)}`],
    ['challenged (401 step_up_required)', `${t.attack.challenged}${pct(t.attack.challenged, t.attack.attempts)}`],
    ['rejected (401 invalid_credentials)', `${t.attack.rejected}${pct(t.attack.rejected, t.attack.attempts)}`],
    ['other answers', String(t.attack.other)],
    ['attempts with a correct password', String(t.attack.correctPairs)],
    ['takeovers (token without 2FA)', `${t.attack.takeovers} (${t.attack.takeoversUnique} with a unique password)`],
    ['validity leaks (right password told apart)', String(t.attack.validityLeaks)],
    ['', ''],
    ['LEGITIMATE USERS', ''],
    ['enrolment logins (challenged)', `${t.enrolment.users} (${t.enrolment.challenged})`],
    ['logins during the wave', String(t.legit.logins)],
    ['  succeeded', `${t.legit.succeeded}${pct(t.legit.succeeded, t.legit.logins)}`],
    ['  challenged, known device', `${t.legit.knownDeviceChallenged} of ${t.legit.knownDevice} (incl. ${t.legit.typoFirst} typo-first)`],
    ['  challenged, new device', `${t.legit.newDeviceChallenged} of ${t.legit.newDevice}`],
    ['  blocked (429)', String(t.legit.blocked)],
    ['  failed', String(t.legit.failed)],
    ['after the wave, known device', `${t.afterWave.logins} logins, ${t.afterWave.challenged} challenged, ${t.afterWave.blocked} blocked`],
    ['  locked out', String(t.afterWave.lockedOut)],
    ['', ''],
    ['duration', `${t.seconds.toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const rule = '─'.repeat(width + 16);
  const out = [rule, ...rows.map(([k, v]) => (v === '' ? k : `${k.padEnd(width)}${v}`)), rule];
  process.stdout.write(`${out.join('\n')}\n`);
}

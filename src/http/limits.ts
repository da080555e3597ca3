/**
 * Length limits on what clients send, checked before any work: an address or password longer
 * than these is refused with 400, never hashed, keyed or scored.
 */
export const MAX_EMAIL_LENGTH = 320;
export const MAX_PASSWORD_LENGTH = 1024;
export const MAX_CODE_LENGTH = 64;
export const MAX_CHALLENGE_LENGTH = 128;

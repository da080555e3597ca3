import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { authOf } from './auth.js';
import { badRequest, type Field, isJsonObject, stringField } from './validate.js';

export interface Withdrawal {
  readonly id: string;
  readonly userId: string;
  /** Canonical decimal text: amounts are never floats once accepted. */
  readonly amount: string;
  readonly address: string;
  readonly createdAt: number;
}

/** Upper bound on one withdrawal, in whole units; anything above is a typo or an attack. */
export const MAX_AMOUNT_DIGITS = 12;
export const MAX_DECIMALS = 18;
export const MAX_ADDRESS_LENGTH = 128;

const DECIMAL = new RegExp(`^(?:0|[1-9]\\d{0,${MAX_AMOUNT_DIGITS - 1}})(?:\\.\\d{1,${MAX_DECIMALS}})?$`);
/** Printable ASCII without spaces: every chain's address format fits, nothing deceptive does. */
const ADDRESS = new RegExp(`^[\\x21-\\x7e]{1,${MAX_ADDRESS_LENGTH}}$`);

/**
 * A positive amount, as a JSON number or a decimal string (clients that care about precision
 * send strings). Exponents, signs, NaN/Infinity and zero are refused.
 */
export function amountField(body: unknown): Field<string> {
  if (!isJsonObject(body) || !Object.hasOwn(body, 'amount')) return { ok: false, detail: 'amount is required' };
  const raw = body.amount;
  let text: string;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) return { ok: false, detail: 'amount must be a positive decimal' };
    text = String(raw);
  } else if (typeof raw === 'string') {
    if (raw.length > MAX_AMOUNT_DIGITS + MAX_DECIMALS + 1) return { ok: false, detail: 'amount is too long' };
    text = raw;
  } else {
    return { ok: false, detail: 'amount must be a number or a decimal string' };
  }
  if (!DECIMAL.test(text) || !/[1-9]/.test(text)) return { ok: false, detail: 'amount must be a positive decimal' };
  return { ok: true, value: text };
}

export function addressField(body: unknown): Field<string> {
  const field = stringField(body, 'address', MAX_ADDRESS_LENGTH);
  if (!field.ok) return field;
  if (!ADDRESS.test(field.value)) return { ok: false, detail: 'address must be printable ASCII without spaces' };
  return field;
}

/** The wallet: records withdrawal requests (a real exchange would queue them for signing). */
export class Wallet {
  private readonly withdrawals = new Map<string, Withdrawal>();

  request(userId: string, amount: string, address: string): Withdrawal {
    const withdrawal: Withdrawal = { id: randomUUID(), userId, amount, address, createdAt: Date.now() };
    this.withdrawals.set(withdrawal.id, withdrawal);
    return withdrawal;
  }

  byUser(userId: string): Withdrawal[] {
    return [...this.withdrawals.values()].filter((w) => w.userId === userId);
  }
}

/** POST /wallet/withdrawals {amount, address} → 201 {id}. Runs after authentication and any guard. */
export function withdrawalHandler(wallet: Wallet): RequestHandler {
  return (req: Request, res: Response) => {
    const amount = amountField(req.body);
    if (!amount.ok) return badRequest(res, amount.detail);
    const address = addressField(req.body);
    if (!address.ok) return badRequest(res, address.detail);
    const withdrawal = wallet.request(authOf(res).session.userId, amount.value, address.value);
    res.status(201).json({ id: withdrawal.id });
  };
}

import { optionalStringField, stringField } from '../../http/body.js';
import { MAX_CHALLENGE_LENGTH, MAX_CODE_LENGTH, MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH } from '../../http/limits.js';

export interface ChangeFields {
  readonly challenge?: string;
  readonly code?: string;
  readonly newPassword?: string;
  readonly currentPassword?: string;
  /** The new address of an email change; a malformed one is simply absent (the app validates it). */
  readonly newEmail?: string;
  /** What is wrong with the body (answered 400); undefined when it can be used. */
  readonly problem?: string;
}

export interface ChangeFieldNames {
  readonly newPasswordField: string | undefined;
  readonly currentPasswordField: string;
  readonly newEmailField: string | undefined;
  /** The app checks the current password, so the field is required. */
  readonly currentRequired: boolean;
}

/** The fields a credential-change guard reads, each checked for type and length. */
export function readChangeFields(body: unknown, names: ChangeFieldNames): ChangeFields {
  const challenge = optionalStringField(body, 'challenge', MAX_CHALLENGE_LENGTH);
  if (challenge && !challenge.ok) return { problem: challenge.detail };
  const code = optionalStringField(body, 'code', MAX_CODE_LENGTH);
  if (code && !code.ok) return { problem: code.detail };
  if (Boolean(challenge) !== Boolean(code)) return { problem: 'challenge and code go together' };
  let newPassword: string | undefined;
  if (names.newPasswordField) {
    const field = stringField(body, names.newPasswordField, MAX_PASSWORD_LENGTH);
    if (!field.ok) return { problem: field.detail };
    newPassword = field.value;
  }
  let currentPassword: string | undefined;
  if (names.newPasswordField || names.currentRequired) {
    const field = names.currentRequired
      ? stringField(body, names.currentPasswordField, MAX_PASSWORD_LENGTH)
      : optionalStringField(body, names.currentPasswordField, MAX_PASSWORD_LENGTH);
    if (field && !field.ok) return { problem: field.detail };
    currentPassword = field?.value;
  }
  const email = names.newEmailField ? optionalStringField(body, names.newEmailField, MAX_EMAIL_LENGTH) : undefined;
  return { challenge: challenge?.value, code: code?.value, newPassword, currentPassword, newEmail: email?.ok ? email.value : undefined };
}

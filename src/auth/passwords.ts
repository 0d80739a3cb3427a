import { randomBytes } from 'node:crypto';
import type * as Argon2 from '@node-rs/argon2';
import { AppError } from '../errors.js';

/** The native argon2 binding, loaded on first use (commands that never check a password skip it). */
let argon2: Promise<typeof Argon2> | undefined;
const lib = () => (argon2 ??= import('@node-rs/argon2'));

/** Argon2id with the library's defaults (m=19 MiB, t=2, p=1: OWASP's minimum). */
// Algorithm.Argon2id is 2; the const enum cannot be imported under verbatimModuleSyntax.
const OPTIONS = { algorithm: 2 as const };

export const MIN_PASSWORD_LENGTH = 12;

export function assertStrongPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > 1024) {
    throw new AppError('WEAK_PASSWORD');
  }
}

export async function hashPassword(password: string): Promise<string> {
  return (await lib()).hash(password, OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await (await lib()).verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummy: Promise<string> | undefined;
/** Spends the same time as a real verification, so a missing user is not told apart by timing. */
export async function verifyAgainstNothing(password: string): Promise<false> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(await dummy, password);
  return false;
}

/** A random password for the first admin: 20 characters from an unambiguous alphabet (~115 bits). */
export function generatePassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = randomBytes(40);
  let out = '';
  for (const b of bytes) {
    if (b < alphabet.length * 4) out += alphabet[b % alphabet.length];
    if (out.length === 20) break;
  }
  return out.length === 20 ? out : generatePassword();
}

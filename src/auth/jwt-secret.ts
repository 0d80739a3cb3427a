import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The HMAC key for access tokens: JWT_SECRET when set, else DATA_DIR/jwt-secret, generated (64 random bytes,
 * mode 0600) on first start. Several API processes must share it: set JWT_SECRET (deploy/ does).
 */
export function resolveJwtSecret(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const path = join(dataDir, 'jwt-secret');
  if (existsSync(path)) {
    const s = readFileSync(path, 'utf8').trim();
    if (s.length >= 32) return s;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(64).toString('base64url');
  writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'w' });
  chmodSync(path, 0o600);
  return secret;
}

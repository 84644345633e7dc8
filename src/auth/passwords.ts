// argon2id password hashing. Hashing runs on libuv's thread pool, so a login never blocks the event loop.
import argon2 from 'argon2';

const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

// Verifying against this when the user does not exist keeps the answer time the same either way.
let decoy: Promise<string> | undefined;

export async function verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
  if (hash === undefined) {
    decoy ??= hashPassword('decoy password that never matches');
    await argon2.verify(await decoy, password);
    return false;
  }
  return argon2.verify(hash, password);
}

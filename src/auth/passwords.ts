// argon2id password hashing. Hashing runs on libuv's thread pool, so a login never blocks the event loop.
import { availableParallelism } from 'node:os';
import argon2 from 'argon2';
import { unavailable } from '../domain/errors.js';

const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

// Each hash keeps a core busy for tens of milliseconds. With one per pool thread (4 by default) a burst
// of logins takes every core from the event loop and every other request slows down; so hashes run at
// most one fewer than the cores at a time, and the rest wait their turn.
const HASH_SLOTS = Math.max(1, availableParallelism() - 1);
let running = 0;
const waiting: Array<() => void> = [];

// A login storm beyond what the slots get through in a few seconds is refused at once: a growing
// queue only makes every login wait until its client gives up.
let maxWaiting = 32;
const RETRY_AFTER_SECONDS = 2;

/** How many hashes may wait for a slot (PASSWORD_HASH_QUEUE_MAX); one setting for the whole process, as the slots are. */
export function limitPasswordHashQueue(max: number): void {
  maxWaiting = max;
}

async function inSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= HASH_SLOTS) {
    if (waiting.length >= maxWaiting) throw unavailable('Too many logins at once; try again shortly', RETRY_AFTER_SECONDS);
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else running++;
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

export function hashPassword(password: string): Promise<string> {
  return inSlot(() => argon2.hash(password, OPTIONS));
}

// Verifying against this when the user does not exist keeps the answer time the same either way.
let decoy: Promise<string> | undefined;

export async function verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
  if (hash === undefined) {
    // A decoy refused for a full queue must not stay refused for good.
    decoy ??= hashPassword('decoy password that never matches').catch((err: unknown) => {
      decoy = undefined;
      throw err;
    });
    const decoyHash = await decoy;
    await inSlot(() => argon2.verify(decoyHash, password));
    return false;
  }
  return inSlot(() => argon2.verify(hash, password));
}

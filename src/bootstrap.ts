// First-start set-up: an admin to log in with, and a few demo offers when the catalogue is empty.
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { type AuditContext, auditTarget } from './audit/domain.js';
import { recordAuditIf } from './audit/service.js';
import { findUserByUsername } from './auth/queries.js';
import { createUser } from './auth/service.js';
import { isUniqueViolation } from './db/errors.js';
import { offerColumns } from './offers/queries.js';
import type { Runtime } from './runtime.js';

export const DEMO_OFFERS = [
  { name: 'Internet 100', description: '100 Mbit/s home internet', price: '20.00', duration_days: 30 },
  { name: 'Internet 1000', description: '1 Gbit/s fibre internet', price: '45.00', duration_days: 30 },
  { name: 'TV Basic', description: '80 channels in HD', price: '12.50', duration_days: 30 },
  { name: 'TV + Internet', description: 'Internet 100 with TV Basic', price: '29.90', duration_days: 30 },
  { name: 'Weekend Data Pass', description: '50 GB of mobile data for a weekend', price: '4.99', duration_days: 3 },
];

// Any fixed number: every process that seeds takes the same lock.
const SEED_LOCK = 4_242_001;

/** Where the embedded default keeps the generated admin password, instead of the log. */
const adminPasswordFile = (dataDir: string) => join(dataDir, 'admin-password');

/**
 * Creates `admin` with a random password written to DATA_DIR/admin-password (owner-only): logs
 * end up in aggregators that many people read, a file in the data folder does not.
 */
async function createEmbeddedAdmin(runtime: Runtime): Promise<void> {
  const { db, config, log } = runtime;
  const file = adminPasswordFile(config.dataDir);
  const password = randomBytes(12).toString('base64url');
  // Written aside first and moved into place only once the admin exists, so the file never holds
  // a password that does not log in (a process that loses the race to create it removes its own).
  const pending = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  mkdirSync(config.dataDir, { recursive: true });
  writeFileSync(pending, `${password}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await createUser(db, { username: 'admin', password, isAdmin: true });
    renameSync(pending, file);
  } finally {
    rmSync(pending, { force: true });
  }
  log.warn({ username: 'admin', file }, `created admin user with a random password; it is in ${file}`);
}

async function ensureAdmin(runtime: Runtime): Promise<void> {
  const { db, config, log } = runtime;
  try {
    if (config.adminUsername && config.adminPassword) {
      if (await findUserByUsername(db, config.adminUsername)) return;
      await createUser(db, { username: config.adminUsername, password: config.adminPassword, isAdmin: true });
      log.info({ username: config.adminUsername }, 'created admin user from ADMIN_USERNAME');
      return;
    }
    const anyAdmin = await db.selectFrom('users').select('id').where('is_admin', '=', true).executeTakeFirst();
    if (anyAdmin || (await findUserByUsername(db, 'admin'))) return;
    if (config.databaseUrl) {
      log.warn(
        'no admin user: set ADMIN_USERNAME and ADMIN_PASSWORD, or create one with `offers-api create-user NAME --admin`',
      );
      return;
    }
    await createEmbeddedAdmin(runtime);
  } catch (err) {
    // Another process starting at the same moment created it first.
    if (!isUniqueViolation(err) && (err as { code?: string }).code !== 'username_taken') throw err;
  }
}

/** `audit`: the operator seeding from the CLI (start-up seeding is no one's action). */
export async function seedDemoOffers(runtime: Runtime, audit?: AuditContext): Promise<number> {
  return runtime.db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${SEED_LOCK})`.execute(trx);
    const existing = await trx.selectFrom('offers').select('id').limit(1).executeTakeFirst();
    if (existing) return 0;
    const offers = await trx.insertInto('offers').values(DEMO_OFFERS).returning(offerColumns).execute();
    for (const offer of offers) await recordAuditIf(trx, audit, { action: 'offer.create', target: auditTarget.offer(offer.id), after: offer });
    return offers.length;
  });
}

export async function bootstrap(runtime: Runtime): Promise<void> {
  await ensureAdmin(runtime);
  if (runtime.config.seedDemo) {
    const added = await seedDemoOffers(runtime);
    if (added > 0) runtime.log.info({ offers: added }, 'seeded demo offers');
  }
}

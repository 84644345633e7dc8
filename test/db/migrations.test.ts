// Upgrading a database that already holds data: each migration runs over what the one before left.
import { Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely';
import { type Migration, Migrator } from 'kysely/migration';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/db/migrate.js';
import * as initial from '../../src/db/migrations/001_initial.js';
import type { DB } from '../../src/db/types.js';
import { backends, freshDatabase } from '../helpers/backends.js';

describe.each(backends)('migrations on %s', (backend) => {
  let db: Kysely<DB>;
  let drop = async () => {};
  beforeAll(async () => {
    if (backend === 'embedded') {
      db = new Kysely<DB>({ dialect: new PGliteDialect({ pglite: new PGlite('memory://') }) });
    } else {
      const database = await freshDatabase();
      drop = database.drop;
      db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 1 }) }) });
    }
  });
  afterAll(async () => {
    await db?.destroy();
    await drop();
  });

  it('gives activations made before 002 their offer duration and then requires one on every activation', async () => {
    const onlyInitial = new Migrator({ db, provider: { getMigrations: async () => ({ '001_initial': initial as Migration }) } });
    expect((await onlyInitial.migrateToLatest()).error).toBeUndefined();
    await sql`INSERT INTO users (id, username, password_hash) VALUES (1, 'old', 'x')`.execute(db);
    await sql`INSERT INTO offers (id, name, price, duration_days) VALUES (1, 'Old offer', 5, 14)`.execute(db);
    await sql`INSERT INTO transactions (id, user_id, type, status, amount, offer_id)
              VALUES ('00000000-0000-4000-8000-000000000001', 1, 'ACTIVATION', 'PENDING', 5, 1),
                     ('00000000-0000-4000-8000-000000000002', 1, 'CREDIT', 'SUCCESS', 5, NULL)`.execute(db);

    expect(await migrateToLatest(db)).toEqual(['002_activation_duration', '003_history_filter_indexes', '004_session_revocation', '005_activation_review', '006_events', '007_lifecycle', '008_notifications', '009_audit', '010_webhooks']);
    const rows = await db.selectFrom('transactions').select(['type', 'duration_days']).orderBy('type').execute();
    expect(rows).toEqual([
      { type: 'ACTIVATION', duration_days: 14 },
      { type: 'CREDIT', duration_days: null },
    ]);
    await expect(
      sql`INSERT INTO transactions (id, user_id, type, status, amount, offer_id)
          VALUES ('00000000-0000-4000-8000-000000000003', 1, 'ACTIVATION', 'PENDING', 5, 1)`.execute(db),
    ).rejects.toThrow(/activation_has_duration/);
  });
});

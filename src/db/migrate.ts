// Applies the SQL migrations; the same list runs on PGlite and PostgreSQL.
import type { Kysely } from 'kysely';
import { type Migration, type MigrationProvider, Migrator } from 'kysely/migration';
import * as initial from './migrations/001_initial.js';
import * as activationDuration from './migrations/002_activation_duration.js';
import * as historyFilterIndexes from './migrations/003_history_filter_indexes.js';
import * as sessionRevocation from './migrations/004_session_revocation.js';
import * as activationReview from './migrations/005_activation_review.js';
import * as events from './migrations/006_events.js';
import * as lifecycle from './migrations/007_lifecycle.js';
import * as notifications from './migrations/008_notifications.js';
import * as audit from './migrations/009_audit.js';
import * as webhooks from './migrations/010_webhooks.js';
import type { DB } from './types.js';

const migrations: Record<string, Migration> = {
  '001_initial': initial,
  '002_activation_duration': activationDuration,
  '003_history_filter_indexes': historyFilterIndexes,
  '004_session_revocation': sessionRevocation,
  '005_activation_review': activationReview,
  '006_events': events,
  '007_lifecycle': lifecycle,
  '008_notifications': notifications,
  '009_audit': audit,
  '010_webhooks': webhooks,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export async function migrateToLatest(db: Kysely<DB>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

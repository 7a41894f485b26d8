import type { PledgeMigration } from './migration.js';
import { auditMigrations } from '../../modules/audit/audit.migration.js';

/** Every module's migrations, in the order they run (names sort the same way). */
export const allMigrations: readonly PledgeMigration[] = [...auditMigrations].sort((a, b) => a.name.localeCompare(b.name));

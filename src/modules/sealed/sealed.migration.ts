import type { PledgeMigration } from '../../internal/db/migration.js';
import { columnTypes } from '../../internal/db/columns.js';

export const sealedMigrations: PledgeMigration[] = [
  {
    name: '0403_sealed',
    async up(db, kind) {
      const t = columnTypes(kind);
      await db.schema
        .createTable('sealed_values')
        .ifNotExists()
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('value', t.bytes, (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('sealed_values_pk', ['subject_id', 'name'])
        .execute();
    },
  },
];

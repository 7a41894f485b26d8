import type { Kysely } from 'kysely';
import type { EngineKind } from './engine.js';

/** A schema change owned by one module. Names sort in the order they must run. */
export interface PledgeMigration {
  readonly name: string;
  up(db: Kysely<unknown>, kind: EngineKind): Promise<void>;
}

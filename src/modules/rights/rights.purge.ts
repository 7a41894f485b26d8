import type { Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import { AppError } from '../../internal/errors/app-error.js';
import type { CompiledPolicy } from '../policy/policy.js';
import type { RightsDeps } from './rights.deps.js';

/**
 * Tables holding a person's data under another name than the policy's `fields:` map uses: sessions hold no sealed
 * field, and the sealed module binds its ciphertext to `sealed.value` while its table is `sealed_values`.
 */
const EXTRA_TABLES = ['sessions', 'sealed_values'] as const;

/** Every table that holds a declared personal field, from the policy (R-CLS-1): the purge follows the policy, not a list in code. */
export function personalTables(policy: CompiledPolicy): string[] {
  const tables = new Set<string>();
  for (const key of policy.fields.keys()) tables.add(key.slice(0, key.indexOf('.')));
  for (const t of EXTRA_TABLES) tables.add(t);
  return [...tables].filter((t) => /^[a-z_][a-z0-9_]*$/.test(t)).sort();
}

type Owner = 'accounts' | 'devices' | 'orders' | 'outbox' | 'sealed' | 'telemetry';

/**
 * The module that purges each personal table, or null where the purge step has nothing to do: sessions are ended
 * by the `sessions` step and contacts erased by the `contacts` step (a contact row is keyed by the contact's own
 * vault subject, never by the sharer's account); `sealed` is the sealed module's field name, not a table; telemetry
 * events carry only a pseudonym, unlinkable once the telemetry purge has removed the person's links.
 */
const OWNER_OF: Readonly<Record<string, Owner | null>> = {
  access_log: 'telemetry',
  accounts: 'accounts',
  contacts: null,
  crash_reports: 'telemetry',
  device_tokens: 'telemetry',
  devices: 'devices',
  email_opens: 'telemetry',
  orders: 'orders',
  outbox: 'outbox',
  pixel_tokens: 'telemetry',
  sealed: null,
  sealed_values: 'sealed',
  sessions: null,
  telemetry_events: null,
  telemetry_links: 'telemetry',
};

/**
 * Checked when the rights module opens (so a policy naming a new personal table fails at start, not at a person's
 * erasure) and again before each purge.
 */
export function assertEveryPersonalTablePurged(policy: CompiledPolicy): void {
  const unowned = personalTables(policy).find((t) => !Object.hasOwn(OWNER_OF, t));
  if (unowned) throw new AppError('INTERNAL', 'A personal table has no purge, so the erasure cannot finish', { table: unowned });
}

type Purge = (db: Kysely<Database>, subjectId: string) => Promise<Record<string, number>>;

/**
 * Each owner's purge through its own service; an owner not wired in this build leaves its tables alone. Held
 * orders belong to their hold subject by now, so `orders` removes only what the tax-law hold does not cover.
 */
function ownerPurges(deps: RightsDeps): Readonly<Record<Owner, Purge | undefined>> {
  const { accounts, devices, orders, outbox, sealed, telemetry } = deps;
  const one = (table: string, purge: (db: Kysely<Database>, s: string) => Promise<number>): Purge => async (db, s) => ({ [table]: await purge(db, s) });
  return {
    accounts: accounts && one('accounts', (db, s) => accounts.purgeSubject(db, s)),
    devices: devices && one('devices', (db, s) => devices.purgeSubject(db, s)),
    orders: orders && one('orders', (db, s) => orders.deleteAllFor(db, s)),
    outbox: outbox && one('outbox', (db, s) => outbox.purgeSubject(db, s)),
    sealed: sealed && one('sealed_values', (db, s) => sealed.deleteAllFor(db, s)),
    telemetry: telemetry && ((db, s) => telemetry.purgeSubject(db, s)),
  };
}

/**
 * Physical purge after crypto-shredding (R-DSR-7): deletes the person's rows, already unreadable, from every
 * personal table the policy names, each through the module that owns it; the rights module deletes nothing of
 * another module's. Each statement runs on its own (nothing to roll back: every one is harmless to repeat), and
 * the whole is idempotent. A personal table no module is known to purge stops the erasure before anything is
 * deleted, rather than leaving the person's rows behind unnoticed. Per table, the rows removed, in name order.
 */
export async function purgeSubject(deps: RightsDeps, subjectId: string): Promise<Record<string, number>> {
  const tables = personalTables(deps.policy);
  assertEveryPersonalTablePurged(deps.policy);
  const owners = new Set(tables.map((t) => OWNER_OF[t]).filter((o): o is Owner => !!o));
  const purges = ownerPurges(deps);
  const removed: Record<string, number> = {};
  for (const owner of owners) Object.assign(removed, await purges[owner]?.(deps.db, subjectId));
  return Object.fromEntries(Object.entries(removed).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

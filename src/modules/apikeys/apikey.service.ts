import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { nowIso } from '../../internal/db/columns.js';
import { AppError, errors } from '../../internal/errors/app-error.js';
import type { AuditLog } from '../audit/audit.service.js';
import * as repo from './apikey.repository.js';

/** `service`: the decision API and published aggregates; `admin`: also the staff routes under /v1/admin. */
export type ApiKeyScope = 'service' | 'admin';
export const API_KEY_SCOPES: readonly ApiKeyScope[] = ['service', 'admin'];

export interface ApiKey {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly scope: ApiKeyScope;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

/** How long a verified key is trusted from memory; a revocation by another process takes effect within it. */
const CACHE_MS = 5_000;

const hashOf = (key: string): string => createHash('sha256').update(key).digest('hex');

/**
 * Service API keys for the decision API. Only the SHA-256 of a key is stored (a key is 256 random bits, so a
 * fast hash is enough: there is nothing to brute-force); the key is shown once, at creation.
 */
export class ApiKeyService {
  private readonly verified = new Map<string, { key: ApiKey; until: number }>();

  constructor(private readonly audit: AuditLog) {}

  async create(db: Kysely<Database>, ctx: ActorContext, name: string, scope: ApiKeyScope = 'service'): Promise<{ apiKey: ApiKey; secret: string }> {
    if (!/^[\w.-]{1,64}$/.test(name)) throw errors.validation('The name must be 1–64 letters, digits, dots, dashes or underscores');
    if (!API_KEY_SCOPES.includes(scope)) throw errors.validation(`The scope must be one of ${API_KEY_SCOPES.join(', ')}`);
    const secret = `plk_${randomBytes(32).toString('base64url')}`;
    const row = { id: randomUUID(), name, key_hash: hashOf(secret), prefix: secret.slice(0, 10), created_at: nowIso(), revoked_at: null, scope };
    await db.transaction().execute(async (trx) => {
      await repo.insertKey(trx, row);
      await this.audit.append(trx, ctx, { action: 'apikey.created', target: row.id, details: { name, scope } });
    });
    return { apiKey: present(row), secret };
  }

  async list(db: Kysely<Database>): Promise<ApiKey[]> {
    return (await repo.listKeys(db)).map(present);
  }

  async revoke(db: Kysely<Database>, ctx: ActorContext, id: string): Promise<void> {
    await db.transaction().execute(async (trx) => {
      if (!(await repo.revokeKey(trx, id, nowIso()))) throw errors.notFound('The active API key');
      await this.audit.append(trx, ctx, { action: 'apikey.revoked', target: id });
    });
    this.verified.clear();
  }

  /** The key of a secret verified within the last seconds, without a promise (the decision API's hot path); else undefined. */
  verifiedRecently(secret: string | undefined): ApiKey | undefined {
    if (!secret) return undefined;
    // Keyed by the presented secret (kept in memory only): a hit skips the hash and the store.
    const hit = this.verified.get(secret);
    return hit && hit.until > Date.now() ? hit.key : undefined;
  }

  /** The key behind a presented secret, or API_KEY_INVALID. Verified keys are remembered for a few seconds. */
  async verify(db: Kysely<Database>, secret: string | undefined): Promise<ApiKey> {
    if (!secret || secret.length > 200) throw new AppError('API_KEY_INVALID');
    const hit = this.verifiedRecently(secret);
    if (hit) return hit;
    const hash = hashOf(secret);
    const row = await repo.keyByHash(db, hash);
    if (!row || row.revoked_at !== null) throw new AppError('API_KEY_INVALID');
    const key = present(row);
    if (this.verified.size > 10_000) this.verified.clear();
    this.verified.set(secret, { key, until: Date.now() + CACHE_MS });
    return key;
  }
}

function present(row: { id: string; name: string; prefix: string; scope: string; created_at: string; revoked_at: string | null }): ApiKey {
  return { id: row.id, name: row.name, prefix: row.prefix, scope: row.scope === 'admin' ? 'admin' : 'service', createdAt: row.created_at, revokedAt: row.revoked_at };
}

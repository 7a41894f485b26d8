import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload, type CryptoKey } from 'jose';
import type { Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import { nowIso } from '../../internal/db/columns.js';

export interface PublicJwk {
  readonly kty: string;
  readonly crv: string;
  readonly x: string;
  readonly y: string;
  readonly kid: string;
  readonly alg: string;
  readonly use: string;
}

export interface PublicJwks {
  readonly keys: readonly PublicJwk[];
}

const ALG = 'ES256';

/**
 * Signs consent receipts with one ES256 key pair. The pair is generated on first start and kept in the
 * store (not a file), so that every instance on the same database signs with the same published key.
 * When two instances start at once, both insert and the oldest key wins for both.
 */
export class ReceiptSigner {
  private key: CryptoKey | undefined;
  private kid = '';
  private publicJwks: PublicJwks = { keys: [] };

  async init(db: Kysely<Database>): Promise<void> {
    let row = await this.oldest(db);
    if (!row) {
      const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
      const pub = await exportJWK(publicKey);
      const kid = await calculateJwkThumbprint(pub);
      const priv = await exportJWK(privateKey);
      await db
        .insertInto('consent_signing_keys')
        .values({ kid, public_jwk: JSON.stringify(pub), private_jwk: JSON.stringify(priv), created_at: nowIso() })
        .onConflict((oc) => oc.column('kid').doNothing())
        .execute();
      row = await this.oldest(db);
    }
    if (!row) throw new Error('no receipt signing key could be created');
    this.kid = row.kid;
    this.key = (await importJWK(JSON.parse(row.private_jwk) as JWK, ALG)) as CryptoKey;
    const pub = JSON.parse(row.public_jwk) as JWK;
    this.publicJwks = Object.freeze({ keys: Object.freeze([Object.freeze({ kty: String(pub.kty), crv: String(pub.crv), x: String(pub.x), y: String(pub.y), kid: row.kid, alg: ALG, use: 'sig' })]) });
  }

  /** The public key set served at /.well-known/jwks.json: all a third party needs to verify a receipt. */
  jwks(): PublicJwks {
    return this.publicJwks;
  }

  async sign(payload: JWTPayload, issuer: string): Promise<string> {
    if (!this.key) throw new Error('ReceiptSigner.init() was not called');
    return new SignJWT(payload).setProtectedHeader({ alg: ALG, kid: this.kid, typ: 'JWT' }).setIssuer(issuer).setIssuedAt().sign(this.key);
  }

  private oldest(db: Kysely<Database>) {
    return db.selectFrom('consent_signing_keys').selectAll().orderBy('created_at').orderBy('kid').limit(1).executeTakeFirst();
  }
}

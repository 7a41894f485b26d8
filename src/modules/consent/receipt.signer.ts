import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload, type CryptoKey } from 'jose';
import type { Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import { nowIso } from '../../internal/db/columns.js';
import type { Vault } from '../vault/vault.service.js';

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
/** The name the private key is sealed under (bound into the ciphertext's associated data). */
const SECRET_NAME = 'consent_receipt_signing_key';

/** The vault calls a signer needs: seal its private key once, open it at each start. */
export type SecretVault = Pick<Vault, 'sealServiceSecret' | 'openServiceSecret'>;

/**
 * Signs consent receipts with one ES256 key pair. The pair is generated on first start and kept in the
 * store (not a file), so that every instance on the same database signs with the same published key; its
 * private half is sealed by the vault, so a copy of the data store alone cannot forge a receipt.
 * When two instances start at once, both insert and the oldest key wins for both.
 */
export class ReceiptSigner {
  private key: CryptoKey | undefined;
  private kid = '';
  private publicJwks: PublicJwks = { keys: [] };

  async init(db: Kysely<Database>, vault: SecretVault): Promise<void> {
    let row = await this.oldest(db);
    if (!row) {
      const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
      const pub = await exportJWK(publicKey);
      const kid = await calculateJwkThumbprint(pub);
      const { keyId, sealed } = await vault.sealServiceSecret(db, SECRET_NAME, JSON.stringify(await exportJWK(privateKey)));
      await db
        .insertInto('consent_signing_keys')
        .values({ kid, public_jwk: JSON.stringify(pub), private_jwk: '', private_sealed: sealed, vault_key_id: keyId, created_at: nowIso() })
        .onConflict((oc) => oc.column('kid').doNothing())
        .execute();
      row = await this.oldest(db);
    }
    if (!row) throw new Error('no receipt signing key could be created');
    let privateJwk: string;
    if (row.private_sealed !== null && row.vault_key_id !== null) {
      const { vault_key_id: keyId, private_sealed: sealed } = row;
      privateJwk = await vault.openServiceSecret(db, keyId, SECRET_NAME, sealed).catch((e: unknown) => {
        throw new Error('The consent receipt signing key cannot be opened with this key provider: every instance on one database must use the same key ring or KMS', { cause: e });
      });
    } else {
      // A key stored in clear before migration 0830: sealed now, and the clear copy emptied.
      privateJwk = row.private_jwk;
      const { keyId, sealed } = await vault.sealServiceSecret(db, SECRET_NAME, privateJwk);
      await db.updateTable('consent_signing_keys').set({ private_jwk: '', private_sealed: sealed, vault_key_id: keyId }).where('kid', '=', row.kid).where('private_sealed', 'is', null).execute();
    }
    this.kid = row.kid;
    this.key = (await importJWK(JSON.parse(privateJwk) as JWK, ALG)) as CryptoKey;
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

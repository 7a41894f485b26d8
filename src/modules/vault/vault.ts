/** Domain types of the vault: subjects, wrapped keys and the key-provider seam. */

/** `service`: not a person — a key of Pledge's own that seals one of its secrets (see Vault.sealServiceSecret). */
export type SubjectKind = 'account' | 'contact' | 'service';

/** A data key sealed by a key-encryption key (KEK), with the KEK version that can open it. */
export interface WrappedKey {
  readonly wrapped: Buffer;
  readonly kekVersion: number;
}

export interface KekVersionInfo {
  readonly version: number;
  readonly createdAt: string;
  /** Set once no data key uses the version any more; its key material is then destroyed. */
  readonly retiredAt: string | null;
  readonly current: boolean;
}

/**
 * Where KEKs live. Shaped after cloud KMS APIs (AWS KMS Encrypt/Decrypt with an encryption context,
 * GCP KMS key versions) so a KMS-backed provider can replace the local one without touching the vault.
 * `context` is bound to the wrapped key (AAD / encryption context): a wrapped DEK moved to another
 * subject does not unwrap.
 */
export interface KeyProvider {
  /** For people and logs: where the keys are, never key material. */
  readonly description: string;
  currentVersion(): Promise<number>;
  wrap(dek: Buffer, context: string): Promise<WrappedKey>;
  unwrap(wrapped: Buffer, kekVersion: number, context: string): Promise<Buffer>;
  /** Creates a new KEK version and makes it current; returns its number. */
  rotate(): Promise<number>;
  /** Destroys a version's key material; anything still wrapped by it can no longer be opened. */
  retire(version: number): Promise<void>;
  versions(): Promise<readonly KekVersionInfo[]>;
  /**
   * The key of the blind indexes. Separate from every KEK and not rotated by `keys rotate`
   * (changing it means recomputing every index from decrypted values).
   */
  indexKey(): Buffer;
}

/** `device_id`: a device's hardware id (re-activation lookup); `ip`: a client address (sign-in throttle). */
export type BlindIndexKind = 'email' | 'phone' | 'device_id' | 'ip';

/** Binds a wrapped DEK to its subject: a wrapped key copied to another subject's row does not unwrap. */
export const dekContext = (subjectId: string): string => `pledge/dek/${subjectId}`;

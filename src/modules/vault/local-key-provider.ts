import path from 'node:path';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../../internal/errors/app-error.js';
import type { KekVersionInfo, KeyProvider, WrappedKey } from './vault.js';
import { writeNonce96 } from './nonce-pool.js';
import { KeyringError, fileStamp, readKeyring, writeKeyring, type KeyringFile } from './keyring-file.js';

export interface LocalKeyProviderOptions {
  readonly dataDir: string;
  /** PLEDGE_MASTER_KEY, base64 of 32 bytes: when set, the key ring on disk is sealed by it. */
  readonly masterKey?: string | undefined;
}

const RELOAD_CHECK_MS = 1000;

/** AES-256-GCM seal: nonce ‖ ciphertext ‖ tag, with the label as associated data. No home-made primitive. */
function seal(key: Buffer, plain: Buffer, label: string): Buffer {
  // Laid out in one buffer (GCM output is as long as its input): this runs once per new subject.
  const out = Buffer.allocUnsafe(12 + plain.length + 16);
  writeNonce96(out, 0);
  const c = createCipheriv('aes-256-gcm', key, out.subarray(0, 12)).setAAD(Buffer.from(label, 'utf8'));
  const body = c.update(plain);
  if (body.length !== plain.length || c.final().length !== 0) throw new Error('AES-GCM output length differs from its input');
  body.copy(out, 12);
  c.getAuthTag().copy(out, 12 + plain.length);
  return out;
}

function open(key: Buffer, sealed: Buffer, label: string): Buffer {
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12)).setAAD(Buffer.from(label, 'utf8'));
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]);
}

/**
 * KEKs in a key-ring file `keyring.json` in the data directory, mode 0600, created on first start.
 * With PLEDGE_MASTER_KEY set, every key in the file is sealed by it (a copy of the data directory alone
 * opens nothing). A rotation done by another process (the CLI beside the server) is picked up within a second.
 */
export class LocalKeyProvider implements KeyProvider {
  readonly description: string;
  private readonly file: string;
  private readonly master: Buffer | undefined;
  private ring!: KeyringFile;
  private stamp: string | undefined;
  private keks = new Map<number, Buffer>();
  private index!: Buffer;
  private checkedAt = 0;

  constructor(options: LocalKeyProviderOptions) {
    this.file = path.join(options.dataDir, 'keyring.json');
    this.master = options.masterKey === undefined ? undefined : Buffer.from(options.masterKey, 'base64');
    this.description = `key file ${this.file}${this.master ? ' (sealed by PLEDGE_MASTER_KEY)' : ''}`;
    if (fileStamp(this.file) === undefined) this.create();
    this.load();
  }

  currentVersion(): Promise<number> {
    this.maybeReload();
    return Promise.resolve(this.ring.current);
  }

  wrap(dek: Buffer, context: string): Promise<WrappedKey> {
    this.maybeReload();
    const v = this.ring.current;
    return Promise.resolve({ wrapped: seal(this.kek(v), dek, `pledge-dek-wrap|v${v}|${context}`), kekVersion: v });
  }

  unwrap(wrapped: Buffer, kekVersion: number, context: string): Promise<Buffer> {
    if (!this.keks.has(kekVersion)) this.load(); // a version created by another process since we last looked
    try {
      return Promise.resolve(open(this.kek(kekVersion), wrapped, `pledge-dek-wrap|v${kekVersion}|${context}`));
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw new AppError('CIPHERTEXT_INVALID', 'A wrapped data key failed its integrity check', { kekVersion }, { cause: e });
    }
  }

  rotate(): Promise<number> {
    this.load();
    const version = Math.max(...this.ring.versions.map((x) => x.version)) + 1;
    const entry = { version, createdAt: new Date().toISOString(), retiredAt: null, key: this.sealEntry(randomBytes(32), `kek|v${version}`) };
    this.save({ ...this.ring, current: version, versions: [...this.ring.versions, entry] });
    return Promise.resolve(version);
  }

  retire(version: number): Promise<void> {
    this.load();
    if (version === this.ring.current) throw new KeyringError(`KEK version ${version} is current and cannot be retired`);
    const at = new Date().toISOString();
    this.save({ ...this.ring, versions: this.ring.versions.map((x) => (x.version === version && x.key !== null ? { ...x, key: null, retiredAt: at } : x)) });
    return Promise.resolve();
  }

  versions(): Promise<readonly KekVersionInfo[]> {
    this.load();
    return Promise.resolve(this.ring.versions.map((x) => ({ version: x.version, createdAt: x.createdAt, retiredAt: x.retiredAt, current: x.version === this.ring.current })));
  }

  indexKey(): Buffer {
    return this.index;
  }

  private kek(version: number): Buffer {
    const k = this.keks.get(version);
    if (!k) throw new AppError('KEY_UNAVAILABLE', `KEK version ${version} is not available (retired or unknown)`, { kekVersion: version });
    return k;
  }

  private create(): void {
    const ring: KeyringFile = {
      format: 1,
      sealedBy: this.master ? 'PLEDGE_MASTER_KEY' : 'none',
      current: 1,
      indexKey: this.sealEntry(randomBytes(32), 'index'),
      versions: [{ version: 1, createdAt: new Date().toISOString(), retiredAt: null, key: this.sealEntry(randomBytes(32), 'kek|v1') }],
    };
    try {
      writeKeyring(this.file, ring, true);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }

  private save(ring: KeyringFile): void {
    writeKeyring(this.file, ring);
    this.load();
  }

  private maybeReload(): void {
    const now = Date.now();
    if (now - this.checkedAt < RELOAD_CHECK_MS) return;
    this.checkedAt = now;
    if (fileStamp(this.file) !== this.stamp) this.load();
  }

  private load(): void {
    const { ring, stamp } = readKeyring(this.file);
    if ((ring.sealedBy === 'PLEDGE_MASTER_KEY') !== (this.master !== undefined)) {
      throw new KeyringError(
        ring.sealedBy === 'PLEDGE_MASTER_KEY'
          ? `${this.file} is sealed by PLEDGE_MASTER_KEY, which is not set`
          : `${this.file} holds unsealed keys but PLEDGE_MASTER_KEY is set; unset it or start from a sealed key ring`,
      );
    }
    const keks = new Map<number, Buffer>();
    try {
      for (const v of ring.versions) if (v.key !== null) keks.set(v.version, this.openEntry(v.key, `kek|v${v.version}`));
      this.index = this.openEntry(ring.indexKey, 'index');
    } catch (e) {
      throw new KeyringError(`${this.file} cannot be opened with this PLEDGE_MASTER_KEY (${e instanceof Error ? e.message : String(e)})`);
    }
    if (!keks.has(ring.current)) throw new KeyringError(`${this.file}: the current KEK version ${ring.current} has no key`);
    this.ring = ring;
    this.keks = keks;
    this.stamp = stamp;
    this.checkedAt = Date.now();
  }

  private sealEntry(key: Buffer, label: string): string {
    return (this.master ? seal(this.master, key, `pledge-keyring|${label}`) : key).toString('base64');
  }

  private openEntry(text: string, label: string): Buffer {
    const raw = Buffer.from(text, 'base64');
    const key = this.master ? open(this.master, raw, `pledge-keyring|${label}`) : raw;
    if (key.length !== 32) throw new Error(`key ${label} is not 32 bytes`);
    return key;
  }
}

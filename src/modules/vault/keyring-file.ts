import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** The on-disk key ring: versioned KEKs and the blind-index key, base64, sealed when a master key is set. */
export interface KeyringFile {
  readonly format: 1;
  readonly sealedBy: 'none' | 'PLEDGE_MASTER_KEY';
  readonly current: number;
  readonly indexKey: string;
  readonly versions: readonly KeyringVersion[];
}

export interface KeyringVersion {
  readonly version: number;
  readonly createdAt: string;
  readonly retiredAt: string | null;
  /** Null once retired: the key material is gone from the file. */
  readonly key: string | null;
}

export class KeyringError extends Error {
  override name = 'KeyringError';
}

/** Reads and checks the file; refuses one that others may read (the KEKs are the root of every secret). */
export function readKeyring(file: string): { readonly ring: KeyringFile; readonly stamp: string } {
  const st = fs.statSync(file);
  if ((st.mode & 0o077) !== 0) {
    throw new KeyringError(`${file} may be read by other users (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${file}`);
  }
  const ring = JSON.parse(fs.readFileSync(file, 'utf8')) as KeyringFile;
  if (ring.format !== 1 || !Array.isArray(ring.versions) || typeof ring.current !== 'number') {
    throw new KeyringError(`${file} is not a Pledge key ring`);
  }
  return { ring, stamp: stampOf(st) };
}

/** Changes when the file is replaced (rename gives a new inode) or rewritten. */
export const stampOf = (st: fs.Stats): string => `${st.ino}:${st.mtimeMs}:${st.size}`;

export function fileStamp(file: string): string | undefined {
  try {
    return stampOf(fs.statSync(file));
  } catch {
    return undefined;
  }
}

/**
 * Replaces the file atomically (write a 0600 temp file, fsync, rename) so a crash leaves the old or the new
 * ring, never half of one. With `exclusive`, fails with EEXIST when the file already exists (first start
 * of two processes at once: one ring wins, the other process reads it).
 */
export function writeKeyring(file: string, ring: KeyringFile, exclusive = false): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, `${JSON.stringify(ring, null, 2)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    if (exclusive) {
      fs.linkSync(tmp, file);
      fs.unlinkSync(tmp);
    } else {
      fs.renameSync(tmp, file);
    }
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

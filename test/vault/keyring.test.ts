import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, tmpDir } from '../support/engines.js';
import { systemContext } from '../../src/internal/context.js';
import { dropSchemas, freshSchema } from './support.js';

const ctx = systemContext('vault-keyring-test');
const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe.each(ENGINES)('key ring on %s', (kind) => {
  const schema = kind === 'postgres' ? freshSchema() : undefined;
  afterAll(() => dropSchemas(schema));

  it('R-SEC-4: the key file is created with mode 0600 on first start and reused on the next start', async () => {
    const dataDir = tmpDir();
    const options = { dataDir, ...(schema ? { schema } : {}) };
    const first = await createStack(kind, options);
    const ring = path.join(dataDir, 'keyring.json');
    expect(mode(ring)).toBe(0o600);
    if (kind === 'sqlite') expect(mode(path.join(dataDir, 'keys.db'))).toBe(0o600);
    const before = fs.readFileSync(ring);
    const id = await first.services.vault.createSubject(first.services.engine.db, ctx, 'account');
    const sealed = await first.services.vault.encrypt(first.services.engine.db, id, 'accounts', 'email', 'reuse@example.org');
    const index = first.services.vault.blindIndex('email', 'reuse@example.org');
    await first.close();

    const second = await createStack(kind, options);
    try {
      expect(fs.readFileSync(ring).equals(before)).toBe(true);
      expect(await second.services.vault.decrypt(second.services.engine.db, id, 'accounts', 'email', sealed, 'provide_service')).toBe('reuse@example.org');
      expect(second.services.vault.blindIndex('email', 'REUSE@example.org')).toBe(index);
    } finally {
      await second.close();
    }
  });
});

describe('key ring sealed by PLEDGE_MASTER_KEY', () => {
  it('R-SEC-4: with a master key no key in the file is in the clear, and a wrong or missing master key stops the start', async () => {
    const dataDir = tmpDir();
    const masterKey = randomBytes(32).toString('base64');
    const stack = await createStack('sqlite', { dataDir, env: { PLEDGE_MASTER_KEY: masterKey } });
    const ring = JSON.parse(fs.readFileSync(path.join(dataDir, 'keyring.json'), 'utf8'));
    expect(ring.sealedBy).toBe('PLEDGE_MASTER_KEY');
    // 12-byte nonce + 32-byte key + 16-byte tag: sealed, not a raw 32-byte key.
    expect(Buffer.from(ring.versions[0].key, 'base64')).toHaveLength(60);
    expect(Buffer.from(ring.indexKey, 'base64')).toHaveLength(60);
    await stack.close();
    await expect(createStack('sqlite', { dataDir, env: { PLEDGE_MASTER_KEY: randomBytes(32).toString('base64') } })).rejects.toThrow(/cannot be opened with this PLEDGE_MASTER_KEY/);
    await expect(createStack('sqlite', { dataDir })).rejects.toThrow(/sealed by PLEDGE_MASTER_KEY, which is not set/);
    await (await createStack('sqlite', { dataDir, env: { PLEDGE_MASTER_KEY: masterKey } })).close();
  });

  it('R-SEC-4: a key file others may read is refused at start', async () => {
    const dataDir = tmpDir();
    await (await createStack('sqlite', { dataDir })).close();
    fs.chmodSync(path.join(dataDir, 'keyring.json'), 0o644);
    await expect(createStack('sqlite', { dataDir })).rejects.toThrow(/chmod 600/);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import https from 'node:https';
import { execFileSync, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { ENGINES, createStack, tmpDir } from '../support/engines.js';
import { ROOT, runCli } from '../support/cli.js';
import { policyFile } from '../support/policy-text.js';
import { systemContext } from '../../src/internal/context.js';
import { parseConfig } from '../../src/internal/config/config.js';
import { boot } from '../../src/start/boot.js';
import { buildApp } from '../../src/http/app.js';

describe('pledge CLI', () => {
  it('--help lists the commands', () => {
    const out = runCli(['--help']);
    expect(out.status).toBe(0);
    for (const c of ['serve', 'db', 'policy', 'audit']) expect(out.stdout).toContain(c);
  });

  it('policy check accepts the seed policy', () => {
    const out = runCli(['policy', 'check', 'policy/smartmi.policy.yaml']);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/valid \(version .+, sha256 [0-9a-f]{64}\)/);
  });

  it('policy check prints every problem with its path and exits 1', () => {
    const file = policyFile((d) => {
      d.purposes.personalised_ads.categories.splice(2, 0, 'user.contact.fax');
      delete d.purposes.marketing_messages.consent.withdrawable;
    });
    const out = runCli(['policy', 'check', file]);
    expect(out.status).toBe(1);
    expect(out.stderr).toContain('purposes.personalised_ads.categories[2]: unknown category user.contact.fax');
    expect(out.stderr).toContain('purposes.marketing_messages.consent.withdrawable:');
    expect(out.stderr).toContain('2 problem(s)');
  });

  it('policy show prints what we collect and why', () => {
    const out = runCli(['policy', 'show']);
    expect(out.status).toBe(0);
    expect(out.stdout).toContain('user.device.imei (personal)');
  });

  it('a bad policy never starts the server', () => {
    const file = policyFile((d) => (d.cookies.marketing = 'sell_to_brokers'));
    const out = runCli(['serve'], { PLEDGE_POLICY: file, PLEDGE_DATA_DIR: tmpDir(), PORT: '0' });
    expect(out.status).toBe(1);
    expect(out.stderr).toContain('cookies.marketing: unknown purpose sell_to_brokers');
  });

  it.each([
    ['PORT', 'eighty'],
    ['DATABASE_URL', 'mysql://localhost/x'],
    ['LOG_LEVEL', 'loud'],
    ['PLEDGE_MASTER_KEY', 'c2hvcnQ='],
  ])('a bad %s at start names the variable and exits non-zero', (name, value) => {
    const out = runCli(['serve'], { [name]: value, PLEDGE_DATA_DIR: tmpDir() });
    expect(out.status).not.toBe(0);
    expect(out.stderr).toContain(`bad configuration: ${name}:`);
  });

  it.each(ENGINES)('db migrate and audit verify run against %s, and verify reports tampering', async (kind) => {
    const stack = await createStack(kind);
    try {
      for (let i = 0; i < 3; i++) await stack.services.audit.append(stack.services.engine.db, systemContext('cli-test'), { action: 'x' });
      expect(runCli(['db', 'migrate'], stack.env).status).toBe(0);
      const ok = runCli(['audit', 'verify'], stack.env);
      expect(ok.stdout).toContain('audit chain intact: 3 entries');
      expect(ok.status).toBe(0);
      const db = stack.services.engine.db;
      if (kind === 'postgres') {
        await sql.raw('ALTER TABLE audit_log DISABLE TRIGGER USER').execute(db);
      } else {
        await sql.raw('DROP TRIGGER audit_log_no_update').execute(db);
      }
      await sql.raw(`UPDATE audit_log SET action = 'y' WHERE seq = 2`).execute(db);
      const broken = runCli(['audit', 'verify'], stack.env);
      expect(broken.status).toBe(2);
      expect(broken.stderr).toContain('entry 2 was changed after it was written');
    } finally {
      await stack.close();
    }
  });
});

describe('start and restart', () => {
  it('a second start on the same data directory finds its data again', async () => {
    const dataDir = tmpDir();
    const first = await createStack('sqlite', { dataDir });
    await first.services.audit.append(first.services.engine.db, systemContext('restart'), { action: 'before.restart' });
    await first.close();
    expect(fs.existsSync(path.join(dataDir, 'pledge.db'))).toBe(true);
    const second = await createStack('sqlite', { dataDir });
    try {
      expect(await second.services.audit.verify(second.services.engine.db)).toMatchObject({ ok: true, entries: 1 });
    } finally {
      await second.close();
    }
  });

  it('npm start serves /health on the embedded store with data under PLEDGE_DATA_DIR', async () => {
    const dataDir = tmpDir();
    const child = spawn('npm', ['start', '--silent'], { cwd: ROOT, env: { ...process.env, PORT: '0', PLEDGE_DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no listen line in: ${out}`)), 30_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /Pledge listening on (http:\/\/[^"\s]+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      const body = await fetch(`${url}/health`).then((r) => r.json());
      expect(body).toMatchObject({ status: 'ok', engine: 'sqlite' });
      expect(fs.existsSync(path.join(dataDir, 'pledge.db'))).toBe(true);
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
    }
  });
});

describe('TLS', () => {
  it('R-SEC-1: with TLS_CERT and TLS_KEY the server speaks HTTPS itself and sends HSTS', async () => {
    const dir = tmpDir();
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const config = parseConfig({ PLEDGE_DATA_DIR: path.join(dir, 'data'), TLS_CERT: cert, TLS_KEY: key, LOG_LEVEL: 'silent' }, ROOT);
    const services = await boot({ config });
    const app = await buildApp({ services, rateLimit: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = (app.server.address() as { port: number }).port;
      const res = await new Promise<{ status: number; hsts: string | undefined; body: string }>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port, path: '/health', ca: fs.readFileSync(cert), servername: 'localhost', checkServerIdentity: () => undefined }, (r) => {
            let body = '';
            r.on('data', (d: Buffer) => (body += d.toString()));
            r.on('end', () => resolve({ status: r.statusCode ?? 0, hsts: r.headers['strict-transport-security'] as string | undefined, body }));
          })
          .on('error', reject);
      });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body).status).toBe('ok');
      expect(res.hsts).toContain('max-age=31536000');
    } finally {
      await app.close();
      await services.engine.close();
    }
  });
});

import path from 'node:path';

/** Everything the process reads from its environment, parsed once at start (STYLE: one config parse). */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly policyFile: string;
  readonly logLevel: string;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly trustedProxies: readonly string[];
  readonly masterKey: string | undefined;
  readonly smtpUrl: string | undefined;
  readonly mailDir: string;
  /** Where people reach this service (PLEDGE_PUBLIC_URL): the base of the links and open pixels in e-mails. */
  readonly publicUrl: string;
  readonly mqttUrl: string | undefined;
  readonly rateLimitPerMinute: number;
  /** Optional internal port serving only the decision API to other services (no cookies, CSP or access log). */
  readonly decisionsPort: number | undefined;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

/** Parses the environment; throws ConfigError naming the variable on the first bad one. */
export function parseConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const databaseUrl = optional(env, 'DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must start with postgres:// or postgresql:// (leave it unset for the embedded SQLite store)');
  }
  const logLevel = optional(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  const tlsCert = optional(env, 'TLS_CERT');
  const tlsKey = optional(env, 'TLS_KEY');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new ConfigError(tlsCert === undefined ? 'TLS_CERT' : 'TLS_KEY', 'TLS_CERT and TLS_KEY must be set together');
  }
  const masterKey = optional(env, 'PLEDGE_MASTER_KEY');
  if (masterKey !== undefined && Buffer.from(masterKey, 'base64').length !== 32) {
    throw new ConfigError('PLEDGE_MASTER_KEY', 'must be 32 bytes encoded in base64');
  }
  const mqttUrl = optional(env, 'MQTT_URL');
  if (mqttUrl !== undefined && !/^mqtts?:\/\//.test(mqttUrl)) throw new ConfigError('MQTT_URL', 'must start with mqtt:// or mqtts://');
  const smtpUrl = optional(env, 'SMTP_URL');
  if (smtpUrl !== undefined && !/^smtps?:\/\//.test(smtpUrl)) throw new ConfigError('SMTP_URL', 'must start with smtp:// or smtps://');
  const port = integer(env, 'PORT', 8080, 0, 65535);
  const host = optional(env, 'HOST') ?? '127.0.0.1';
  const publicUrl = optional(env, 'PLEDGE_PUBLIC_URL');
  if (publicUrl !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(publicUrl)) throw new ConfigError('PLEDGE_PUBLIC_URL', 'must be an origin such as https://privacy.example.com');
  return Object.freeze({
    port,
    host,
    dataDir: path.resolve(cwd, optional(env, 'PLEDGE_DATA_DIR') ?? 'data'),
    databaseUrl,
    policyFile: path.resolve(cwd, optional(env, 'PLEDGE_POLICY') ?? 'policy/smartmi.policy.yaml'),
    logLevel,
    tlsCert,
    tlsKey,
    trustedProxies: Object.freeze((optional(env, 'TRUSTED_PROXIES') ?? '').split(',').map((s) => s.trim()).filter(Boolean)),
    masterKey,
    smtpUrl,
    mailDir: path.resolve(cwd, optional(env, 'PLEDGE_MAIL_DIR') ?? 'mail'),
    publicUrl: (publicUrl ?? `${tlsCert === undefined ? 'http' : 'https'}://${host}:${port}`).replace(/\/$/, ''),
    mqttUrl,
    rateLimitPerMinute: integer(env, 'RATE_LIMIT_PER_MINUTE', 600, 1, 1_000_000),
    decisionsPort: optional(env, 'PLEDGE_DECISIONS_PORT') === undefined ? undefined : integer(env, 'PLEDGE_DECISIONS_PORT', 0, 0, 65535),
  });
}

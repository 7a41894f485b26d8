import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import type { Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { Insertable } from 'kysely';
import type { AccessLogTable } from './telemetry-stores.table.js';
import type { CompiledPolicy } from '../policy/policy.js';
import { assertStoredFields } from './stored-fields.js';

export type AccessLogRowInput = Insertable<AccessLogTable>;

/** /24 for IPv4, /48 for IPv6 (R-TEL-4). An IPv4-mapped IPv6 address is treated as IPv4. */
export function truncateIp(ip: string): string {
  const v4 = ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (net.isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (!net.isIPv6(ip)) return 'unknown';
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 3).map((g) => g.replace(/^0+(?=.)/, '').toLowerCase()).join(':')}::/48`;
}

const BROWSERS: readonly [RegExp, string][] = [
  [/SmartmiHome\/(\d+)/, 'SmartmiHome'],
  [/Edg\/(\d+)/, 'Edge'],
  [/OPR\/(\d+)/, 'Opera'],
  [/Firefox\/(\d+)/, 'Firefox'],
  [/Chrome\/(\d+)/, 'Chrome'],
  [/Version\/(\d+).*Safari/, 'Safari'],
  [/curl\/(\d+)/, 'curl'],
];
const SYSTEMS: readonly [RegExp, string][] = [
  [/Android/, 'Android'],
  [/iPhone|iPad|iOS/, 'iOS'],
  [/Windows/, 'Windows'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
];

/** Browser family and major version, and OS family: the type, not the fingerprint. */
export function describeAgent(ua: string | undefined): { browser: string | null; os: string | null } {
  if (!ua) return { browser: null, os: null };
  const b = BROWSERS.find(([re]) => re.test(ua));
  const os = SYSTEMS.find(([re]) => re.test(ua));
  return { browser: b ? `${b[1]} ${b[0].exec(ua)?.[1] ?? ''}`.trim() : 'other', os: os ? os[1] : null };
}

/** The first language tag of Accept-Language, e.g. `zh-CN`. */
export const primaryLanguage = (header: string | undefined): string | null => (header ? (/^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})?)/.exec(header)?.[1] ?? null) : null);

/** Only the referring origin: paths and query strings of other sites can hold ids and addresses. */
export function referrerOrigin(header: string | undefined): string | null {
  if (!header) return null;
  try {
    const u = new URL(header);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}

/**
 * A clickstream id: the same browser on the same day gets the same id, without a cookie. It is a keyed hash under a
 * secret that lives in memory for one day, so it cannot be recomputed later. Anonymous requests are grouped by IP and
 * User-Agent; a signed-in person's by their subject id. A signed-in row keeps its full IP only sealed under the
 * person's key: an id shared with the same browser's anonymous rows (whose IP stays in clear until truncation)
 * would let a backup join the two and read the address the seal protects.
 */
export class Clickstream {
  private day = '';
  private secret = Buffer.alloc(0);
  idFor(who: { readonly ip: string; readonly subjectId: string | null }, ua: string | undefined, now = new Date()): string {
    const day = now.toISOString().slice(0, 10);
    if (day !== this.day) {
      this.day = day;
      this.secret = randomBytes(32);
    }
    const hash = createHash('sha256').update(this.secret);
    if (who.subjectId !== null) hash.update('subject\0').update(who.subjectId);
    else hash.update('ip\0').update(who.ip).update('\0').update(ua ?? '');
    return hash.digest('base64url').slice(0, 16);
  }
}

/** Seals a signed-in person's IP under their key; rejects when the person's key is gone (erased). */
export type IpSealer = (subjectId: string, ip: string) => Promise<Buffer>;

/** Access-log rows are written in small batches (every second or 500 rows): one insert per request would cost more than the request. */
export class AccessLogWriter {
  private buffer: AccessLogRowInput[] = [];
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly db: Kysely<Database>,
    private readonly policy: CompiledPolicy,
    private readonly sealIp: IpSealer,
    private readonly onError: (e: unknown) => void,
  ) {}

  push(row: AccessLogRowInput): void {
    this.buffer.push(row);
    if (this.buffer.length >= 500) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), 1000);
      this.timer.unref();
    }
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const rows = this.buffer.splice(0);
    if (rows.length === 0) return;
    try {
      // A signed-in person's full address is kept only sealed under their key, so that erasure's shred reaches it in
      // backups too; the clear column keeps the network prefix. A person erased meanwhile keeps the prefix only.
      for (const row of rows) {
        if (row.subject_id === null || row.subject_id === undefined || row.ip === row.ip_prefix) continue;
        row.ip_sealed = await this.sealIp(row.subject_id, row.ip).catch(() => null);
        row.ip = row.ip_prefix;
      }
      assertStoredFields(this.policy, 'access_log', new Set(rows.flatMap((r) => Object.keys(r))));
      await this.db.insertInto('access_log').values(rows).execute();
    } catch (e) {
      this.onError(e);
    }
  }
}

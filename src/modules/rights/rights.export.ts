import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { Section } from './rights.collector.js';

export const EXPORT_SCHEMA_ID = 'https://pledge.dev/schemas/export.schema.json';

/**
 * A file written with back-pressure: text is gathered into chunks of about 64 KiB, and a full chunk waits for
 * the disk when the stream's buffer is full, so memory stays flat however many records a person has.
 */
class Sink {
  private readonly out: fs.WriteStream;
  private pending: string[] = [];
  private size = 0;
  constructor(file: string) {
    this.out = fs.createWriteStream(file, { mode: 0o600 });
  }
  async write(s: string): Promise<void> {
    this.pending.push(s);
    this.size += s.length;
    if (this.size >= 65_536) await this.flush();
  }
  private async flush(): Promise<void> {
    const chunk = this.pending.join('');
    this.pending = [];
    this.size = 0;
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }
  async close(): Promise<void> {
    await this.flush();
    this.out.end();
    await once(this.out, 'finish');
  }
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A value as nested HTML lists; keys are ours, values the person's (escaped). */
function html(v: unknown): string {
  if (v === null || v === undefined) return '<i>none</i>';
  if (Array.isArray(v)) return v.length === 0 ? '<i>none</i>' : `<ol>${v.map((x) => `<li>${html(x)}</li>`).join('')}</ol>`;
  if (typeof v === 'object') return `<dl>${Object.entries(v).map(([k, x]) => `<dt>${esc(k)}</dt><dd>${html(x)}</dd>`).join('')}</dl>`;
  return esc(String(v));
}

const TITLES: Readonly<Record<string, string>> = {
  account: 'Your account', orders: 'Your orders', devices: 'Your devices', contacts: 'People you shared with', sealedValues: 'Values you sealed with your own key', consents: 'Your choices',
  consentEvents: 'History of your choices', requests: 'Your requests', corrections: 'Corrections you made', accesses: 'Who else used your data',
  legalHolds: 'Records we must keep by law', telemetry: 'Usage statistics', notIncluded: 'Stores not included',
};

/**
 * R-DSR-6: writes the JSON document (docs/export.schema.json) and its HTML rendering side by side, section by
 * section and item by item, so a person with 100k records never sits whole in memory. Returns the base name.
 */
export async function writeExport(dir: string, requestId: string, sections: readonly Section[]): Promise<{ base: string; items: number }> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Unguessable name: the link is authenticated anyway, but the file system should not invite guessing either.
  const base = `${requestId}-${randomBytes(8).toString('hex')}`;
  const json = new Sink(path.join(dir, `${base}.json`));
  const page = new Sink(path.join(dir, `${base}.html`));
  let items = 0;
  await json.write(`{"$schema":${JSON.stringify(EXPORT_SCHEMA_ID)}`);
  await page.write('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Your data</title></head><body><h1>Everything we hold about you</h1>');
  for (const s of sections) {
    await json.write(`,${JSON.stringify(s.name)}:`);
    if ('value' in s) {
      const v = await s.value();
      await json.write(JSON.stringify(v ?? null));
      await page.write(TITLES[s.name] ? `<h2>${esc(TITLES[s.name]!)}</h2>${html(v)}` : `<p><b>${esc(s.name)}</b>: ${html(v)}</p>`);
      continue;
    }
    await json.write('[');
    await page.write(`<h2>${esc(TITLES[s.name] ?? s.name)}</h2><ol>`);
    let first = true;
    for await (const x of s.items()) {
      await json.write((first ? '' : ',') + JSON.stringify(x));
      await page.write(`<li>${html(x)}</li>`);
      first = false;
      items++;
    }
    await json.write(']');
    await page.write(first ? '</ol><p><i>none</i></p>' : '</ol>');
  }
  await json.write('}\n');
  await page.write('</body></html>\n');
  await Promise.all([json.close(), page.close()]);
  return { base, items };
}

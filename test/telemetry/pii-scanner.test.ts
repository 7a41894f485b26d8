import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPii, redactPii } from '../../src/modules/telemetry/pii-scanner.js';
import { luhnValid, type PiiKind } from '../../src/modules/telemetry/pii-patterns.js';

const DIR = path.resolve(import.meta.dirname, '../fixtures/crash-logs');
const MARKER = /⟦(email|phone|imei|card|ip)\|([^⟧]+)⟧/g;

interface Expected { kind: PiiKind; start: number; end: number; value: string }

/** Strips the ⟦kind|value⟧ annotations and returns the raw text with the expected spans. */
function parseFixture(annotated: string): { text: string; expected: Expected[] } {
  let text = '';
  let at = 0;
  const expected: Expected[] = [];
  for (const m of annotated.matchAll(MARKER)) {
    text += annotated.slice(at, m.index);
    expected.push({ kind: m[1] as PiiKind, start: text.length, end: text.length + m[2]!.length, value: m[2]! });
    text += m[2];
    at = m.index + m[0].length;
  }
  return { text: text + annotated.slice(at), expected };
}

const files = fs.readdirSync(DIR).filter((f) => f !== 'README.md').sort();

describe('R-CLS-3: free-text PII scanner on the crash-log corpus', () => {
  it('the corpus has at least 30 real-looking logs with annotated personal data', () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
    const total = files.reduce((n, f) => n + parseFixture(fs.readFileSync(path.join(DIR, f), 'utf8')).expected.length, 0);
    expect(total).toBeGreaterThan(60);
  });

  it('R-CLS-3: no false negatives (every annotated e-mail, phone, IMEI, card and IP is found, with its kind); false positives reported', () => {
    const missed: string[] = [];
    const wrongKind: string[] = [];
    const falsePositives: string[] = [];
    let expectedCount = 0;
    for (const file of files) {
      const { text, expected } = parseFixture(fs.readFileSync(path.join(DIR, file), 'utf8'));
      expectedCount += expected.length;
      const hits = findPii(text);
      for (const e of expected) {
        const hit = hits.find((h) => h.start <= e.start && h.end >= e.end);
        if (!hit) missed.push(`${file}: ${e.kind} ${e.value}`);
        else if (hit.kind !== e.kind) wrongKind.push(`${file}: ${e.value} seen as ${hit.kind}`);
      }
      for (const h of hits) {
        if (!expected.some((e) => h.start < e.end && e.start < h.end)) falsePositives.push(`${file}: ${h.kind} "${text.slice(h.start, h.end)}"`);
      }
    }
    console.log(`PII corpus: ${files.length} files, ${expectedCount} annotated hits, ${missed.length} false negatives, ${falsePositives.length} false positives${falsePositives.length ? `:\n  ${falsePositives.join('\n  ')}` : ''}`);
    expect(missed).toEqual([]);
    expect(wrongKind).toEqual([]);
    // "Keep them low": the corpus is full of versions, timestamps, hex addresses and build numbers.
    expect(falsePositives.length).toBeLessThanOrEqual(2);
  });

  it('R-CLS-3: redaction replaces each hit by its kind and counts per kind; the raw values are gone', () => {
    const r = redactPii('mail bob@example.com or call +44 20 7946 0958 from 203.0.113.9, card 4111-1111-1111-1111, IMEI 490154203237518');
    expect(r.text).toBe('mail [email] or call [phone] from [ip], card [card], IMEI [imei]');
    expect(r.counts).toEqual({ email: 1, phone: 1, imei: 1, card: 1, ip: 1 });
    expect(r.total).toBe(5);
  });

  it('R-CLS-3: versions, timestamps, hex addresses, build numbers, MACs and non-Luhn digit runs are left alone', () => {
    const bait = [
      'firmware 1.4.2.18 and version 10.0.19041.1', '2026-11-25T10:22:33.123Z', 'pc 0x00007fff5fbff8c0', 'build 20231125.1',
      'mac aa:bb:cc:dd:ee:ff', 'ts=1732531200000', 'order 4111111111111112', 'std::vector<int>::iterator', 'localhost 127.0.0.1 and ::1',
      'error code 2147483647', 'uuid 3f2504e0-4f89-11d3-9a0c-0305e82c3301',
    ];
    for (const text of bait) expect(findPii(text), text).toEqual([]);
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
  });
});

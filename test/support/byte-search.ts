const isHexByte = (b: number | undefined): boolean => b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46));
const isIdByte = (b: number | undefined): boolean => isHexByte(b) || b === 0x2d; // hex digits and '-'
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** Whether every byte of [from, to) lies inside UUIDs of `run` (adjacent UUIDs count as one cover). */
function insideUuids(run: string, from: number, to: number): boolean {
  const covered = new Uint8Array(run.length);
  for (const m of run.matchAll(UUID)) covered.fill(1, m.index, m.index + m[0].length);
  for (let i = from; i < to; i++) if (covered[i] !== 1) return false;
  return true;
}

/**
 * Whether `needle` occurs in `haystack` other than inside a run of 32 or more hex digits or inside UUIDs. A six-digit
 * one-time code turns up by chance inside the hex a store keeps: hashes (audit chain, blind indexes, code hashes: one
 * chance in 16^6 per position, a few per cent over a whole dump) and the thousands of UUID row ids, which SQLite's
 * record format writes back to back (one test dump here: ~10k six-character windows inside UUIDs against a few dozen
 * in other short hex runs — the likely source of the CI flake that found a code outside any hash). That is a
 * coincidence, not a leak; anywhere else it is one — including a code stored right beside a UUID.
 */
export function occursOutsideHashes(haystack: Buffer, needle: Buffer): boolean {
  const needleIsHex = [...needle].every((b) => isHexByte(b));
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) {
    if (!needleIsHex) return true;
    let start = at;
    let end = at + needle.length;
    while (isHexByte(haystack[start - 1])) start--;
    while (isHexByte(haystack[end])) end++;
    if (end - start >= 32) continue;
    let idStart = at;
    let idEnd = at + needle.length;
    while (isIdByte(haystack[idStart - 1])) idStart--;
    while (isIdByte(haystack[idEnd])) idEnd++;
    const run = haystack.subarray(idStart, idEnd).toString('latin1');
    if (!insideUuids(run, at - idStart, at - idStart + needle.length)) return true;
  }
  return false;
}

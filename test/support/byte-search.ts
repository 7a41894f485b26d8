const isHexByte = (b: number | undefined): boolean => b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46));

/**
 * Whether `needle` occurs in `haystack` other than inside a run of 32 or more hex digits. A six-digit one-time code
 * turns up by chance inside the hex hashes a store keeps (audit chain, blind indexes, code hashes: one chance in
 * 16^6 per position, a few per cent over a whole dump), which is a coincidence, not a leak; anywhere else it is one.
 */
export function occursOutsideHashes(haystack: Buffer, needle: Buffer): boolean {
  const needleIsHex = [...needle].every((b) => isHexByte(b));
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) {
    if (!needleIsHex) return true;
    let start = at;
    let end = at + needle.length;
    while (isHexByte(haystack[start - 1])) start--;
    while (isHexByte(haystack[end])) end++;
    if (end - start < 32) return true;
  }
  return false;
}

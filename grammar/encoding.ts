/** Text encodings of input files: a UTF-8 byte-order mark is skipped; UTF-16 is recognised and refused with a message. */

/** The byte-order mark as decoded from UTF-8. */
const BOM = '\uFEFF';

/** `text` without a leading byte-order mark. */
export function stripBom(text: string): string {
  return text.startsWith(BOM) ? text.slice(1) : text;
}

/** "UTF-16 (little-endian)" when the bytes look like UTF-16 text (a UTF-16 BOM, or NULs in ASCII text), else null. */
export function utf16Kind(bytes: Uint8Array): string | null {
  if (bytes.length < 2) return null;
  const [a, b] = [bytes[0]!, bytes[1]!];
  if ((a === 0xff && b === 0xfe) || (a !== 0 && b === 0 && a < 0x80)) return 'UTF-16 (little-endian)';
  if ((a === 0xfe && b === 0xff) || (a === 0 && b !== 0 && b < 0x80)) return 'UTF-16 (big-endian)';
  return null;
}

/** The message for a text file in UTF-16. */
export function utf16Message(kind: string): string {
  return `the file is ${kind} text; rlp reads UTF-8: save it as UTF-8 (e.g. \`iconv -f UTF-16 -t UTF-8\`)`;
}

/** Whether decoded text looks like UTF-16 read as UTF-8 (NULs between ASCII, or an undecodable BOM). */
export function looksLikeUtf16(text: string): boolean {
  return text.length >= 2 && (text[1] === '\0' || text[0] === '\0' || text.startsWith('\uFFFD\uFFFD'));
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Control characters from the cluster could drive a terminal or viewer (ESC and BEL sequences, the
 * 8-bit CSI U+009B): shown as `\xNN` instead. Newline and tab are kept.
 */
export function showControls(s: string): string {
  return s.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * JSON.stringify escapes C0 controls but leaves DEL, the C1 controls and the line/paragraph
 * separators raw; outside strings JSON has none of them, so escaping them in the text is exact.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

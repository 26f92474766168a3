/**
 * Everything on a page comes from the cluster or a user: it is escaped here, once, for text and
 * attribute values alike. C0 control characters (and DEL) become their visible Control Pictures
 * (U+2400…), so a pod name with an escape sequence shows what it is instead of vanishing.
 */
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(value: string | number): string {
  return String(value)
    .replace(/[&<>"']/g, (c) => ENTITIES[c]!)
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c) => (c === '\u007f' ? '\u2421' : String.fromCharCode(0x2400 + c.charCodeAt(0))));
}

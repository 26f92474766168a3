/**
 * mrkdwn escaping for every string that comes from the cluster or from a user.
 *
 * Slack parses `<…>` (mentions, `<!channel>`, links) and entities everywhere in mrkdwn, code
 * included, so `&`, `<`, `>` are always turned into entities. Inside code the only other
 * danger is a backtick closing the span early and letting the rest be parsed as formatting:
 * mrkdwn has no longer fences, so backticks are swapped for a look-alike (U+02CB).
 */

import { showControls } from '../render/control-chars';

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
/** Shown in place of a backtick inside code; looks the same, cannot close the span. */
export const BACKTICK_STAND_IN = '\u02cb';

/** Escapes `&`, `<`, `>`; the result is safe as mrkdwn text (formatting characters still format). */
export function escapeMrkdwn(s: string): string {
  return s.replace(/[&<>]/g, (c) => ENTITIES[c]!);
}

/** Control characters (bar newline and tab) would garble a message; show them as escapes. */
const visible = showControls;

/** Untrusted text as an inline code span: one line, escaped, backticks neutralised. */
export function code(s: string): string {
  const inner = escapeMrkdwn(visible(s).replace(/[\r\n]+/g, ' ')).replace(/`/g, BACKTICK_STAND_IN);
  return `\`${inner.length > 0 ? inner : ' '}\``;
}

/** The body of a ``` block: escaped, backticks neutralised (without the fences). */
export function codeBlockBody(s: string): string {
  return escapeMrkdwn(visible(s)).replace(/`/g, BACKTICK_STAND_IN);
}

/** Untrusted multi-line text as a ``` block. */
export function codeBlock(s: string): string {
  return '```\n' + codeBlockBody(s) + '\n```';
}

/** Untrusted prose (check summaries that embed object names): escaped, shown as text. */
export function text(s: string): string {
  return escapeMrkdwn(visible(s));
}

/** A Slack user mention, only for ids Slack itself gave us (validated, so never a way to inject `<!channel>`). */
export function mentionUser(userId: string): string {
  return /^[UW][A-Z0-9]{2,20}$/.test(userId) ? `<@${userId}>` : code(userId);
}

/**
 * A time in the reader's own time zone: Slack's `<!date^…>` token, with UTC text where a client
 * cannot format it. Only a parsed instant goes inside the token; anything else is shown as text.
 */
export function slackDate(iso: string): string {
  const at = Date.parse(iso);
  if (!Number.isFinite(at)) return code(iso);
  const utc = new Date(at).toISOString().slice(0, 16).replace('T', ' ');
  return `<!date^${Math.floor(at / 1000)}^{date_short_pretty} {time}|${utc} UTC>`;
}

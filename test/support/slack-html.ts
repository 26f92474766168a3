// Renders what the Slack emulator recorded into one HTML page, close enough to Slack to judge a
// thread by eye and by measurement: Block Kit sections (text, fields, a button accessory), context,
// actions, dividers and headers, attachments' colour bars, and mrkdwn (code blocks and spans,
// bold, italic, strike, links, mentions, `<!date^…>`, common emoji), entities shown decoded.
// Test-only: what Slack itself would show is approximated, never asserted pixel for pixel.

/** One message as the page shows it (a parent, a reply, or an ephemeral answer). */
export interface ShownMessage {
  text: string;
  blocks: unknown[];
  attachments?: unknown[];
  /** Shown only to one user (Slack's "Only visible to you"). */
  ephemeral?: boolean;
}

type TextObject = { type: 'mrkdwn' | 'plain_text'; text: string };
type Element = { type: string; text?: TextObject | string; style?: string; confirm?: unknown; action_id?: string };
type Block = { type: string; block_id?: string; text?: TextObject; fields?: TextObject[]; elements?: Element[]; accessory?: Element };

/**
 * Emoji as glyphs any Debian chromium can draw (no colour emoji font is assumed): coloured dots for
 * the verdict circles, DejaVu symbols for the rest. Unknown codes stay as `:code:`.
 */
const dot = (color: string): string => `<span class="dot" style="background:${color}"></span>`;
const glyph = (char: string, color: string): string => `<span class="glyph" style="color:${color}">${char}</span>`;
const EMOJI: Readonly<Record<string, string>> = {
  red_circle: dot('#dd2e44'),
  large_yellow_circle: dot('#fdcb58'),
  large_green_circle: dot('#78b159'),
  white_circle: dot('#e6e7e8'),
  information_source: glyph('ℹ', '#1264a3'),
  warning: glyph('⚠', '#e8a317'),
  wrench: glyph('⚙', '#616061'),
  page_facing_up: glyph('▤', '#616061'),
  bar_chart: glyph('▥', '#616061'),
  white_check_mark: '<span class="glyph check">✔</span>',
  x: glyph('✖', '#dd2e44'),
  heavy_multiplication_x: glyph('✖', '#616061'),
  no_entry: glyph('⊘', '#dd2e44'),
  no_entry_sign: glyph('⊘', '#dd2e44'),
  hourglass: glyph('⌛', '#616061'),
  hourglass_flowing_sand: glyph('⌛', '#e8a317'),
  leftwards_arrow_with_hook: glyph('↩', '#1264a3'),
  grey_question: glyph('?', '#616061'),
  new: '<span class="badge">NEW</span>',
  scissors: glyph('✂', '#616061'),
  stethoscope: glyph('⚕', '#1264a3'),
};

/** Raw `<`, `>` and quotes become entities; entities already in mrkdwn stay (the browser decodes them, as Slack does). */
function html(s: string): string {
  return s.replace(/&(?!(?:amp|lt|gt|quot|#\d+);)/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** `<…>` tokens: links, user mentions, `<!date^…|fallback>` (shown as the fallback, in UTC), specials. */
function token(inner: string): string {
  const [target = '', label] = inner.split('|', 2);
  if (target.startsWith('@')) return `<span class="mention">@${html(target.slice(1))}</span>`;
  if (target.startsWith('!date^')) return `<span class="date">${html(label ?? target)}</span>`;
  if (target.startsWith('!')) return `<span class="mention">@${html(target.slice(1))}</span>`;
  if (target.startsWith('#')) return `<span class="mention">#${html(target.slice(1))}</span>`;
  return `<a href="${html(target)}">${html(label ?? target)}</a>`;
}

/** Inline mrkdwn outside code: tokens, bold, italic, strike, emoji, line breaks. */
function inline(s: string): string {
  const parts = s.split(/(<[^<>]+>)/);
  return parts
    .map((p, i) => {
      if (i % 2 === 1) return token(p.slice(1, -1));
      return html(p)
        .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/g, '$1<b>$2</b>')
        .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:;!?])/g, '$1<i>$2</i>')
        .replace(/(^|[\s(])~([^~\n]+)~(?=$|[\s).,:;!?])/g, '$1<s>$2</s>')
        .replace(/:([a-z0-9_+-]+):/g, (m, name: string) => EMOJI[name] ?? m);
    })
    .join('')
    .replace(/\n/g, '<br>');
}

/** mrkdwn to HTML: ``` blocks, then `code` spans, then inline formatting (bold across a span is kept simple). */
export function mrkdwnHtml(s: string): string {
  return s
    .split(/```\n?([\s\S]*?)\n?```/)
    .map((part, i) => {
      if (i % 2 === 1) return `<pre>${html(part)}</pre>`;
      return part
        .split(/`([^`]*)`/)
        .map((p, j) => (j % 2 === 1 ? `<code>${html(p)}</code>` : inline(p)))
        .join('');
    })
    .join('')
    .replace(/^(<br>)+|(<br>)+$/g, '');
}

function textHtml(t: TextObject | string | undefined): string {
  if (t === undefined) return '';
  if (typeof t === 'string') return html(t);
  return t.type === 'mrkdwn' ? mrkdwnHtml(t.text) : html(t.text);
}

function buttonHtml(e: Element): string {
  const style = e.style === 'primary' ? ' primary' : e.style === 'danger' ? ' danger' : '';
  return `<span class="button${style}" data-action="${html(e.action_id ?? '')}"${e.confirm ? ' data-confirm="1"' : ''}>${textHtml(e.text)}</span>`;
}

function blockHtml(b: Block): string {
  switch (b.type) {
    case 'section': {
      const fields = b.fields?.length ? `<div class="fields">${b.fields.map((f) => `<div>${textHtml(f)}</div>`).join('')}</div>` : '';
      const accessory = b.accessory?.type === 'button' ? `<div class="accessory">${buttonHtml(b.accessory)}</div>` : '';
      return `<div class="section"><div class="body">${textHtml(b.text)}${fields}</div>${accessory}</div>`;
    }
    case 'context':
      return `<div class="context">${(b.elements ?? []).map((e) => (e.type === 'mrkdwn' ? mrkdwnHtml(e.text as string) : html(typeof e.text === 'string' ? e.text : ''))).join(' ')}</div>`;
    case 'actions':
      return `<div class="actions">${(b.elements ?? []).filter((e) => e.type === 'button').map(buttonHtml).join('')}</div>`;
    case 'divider':
      return '<hr>';
    case 'header':
      return `<div class="header">${textHtml(b.text)}</div>`;
    default:
      return `<div class="unknown">[${html(b.type)} block]</div>`;
  }
}

function messageHtml(m: ShownMessage, time: string): string {
  const blocks = m.blocks.length > 0 || m.attachments?.length ? (m.blocks as Block[]).map(blockHtml).join('') : `<div class="section">${mrkdwnHtml(m.text)}</div>`;
  const attachments = (m.attachments ?? [])
    .map((a) => a as { color?: string; blocks?: Block[] })
    .map((a) => `<div class="attachment" style="border-left-color:${html(a.color ?? '#ddd')}">${(a.blocks ?? []).map(blockHtml).join('')}</div>`)
    .join('');
  const only = m.ephemeral ? '<div class="only">Only visible to you</div>' : '';
  return `<div class="message${m.ephemeral ? ' ephemeral' : ''}"><div class="avatar">nd</div><div class="content">${only}<div class="meta"><b>netdoctor</b> <span class="app">APP</span> <span class="time">${html(time)}</span></div>${blocks}${attachments}</div></div>`;
}

const STYLE = `
body { margin: 0; background: #fff; color: #1d1c1d; font: 15px/1.46668 -apple-system, "Segoe UI", "Noto Sans", "DejaVu Sans", Arial, sans-serif; }
.thread { padding: 8px 0; }
.message { display: flex; gap: 8px; padding: 8px 16px; }
.message.ephemeral { background: #f8f8f8; }
.avatar { flex: 0 0 36px; height: 36px; border-radius: 6px; background: #1264a3; color: #fff; font-weight: 700; display: flex; align-items: center; justify-content: center; }
.content { min-width: 0; flex: 1; }
.meta { margin-bottom: 2px; } .app { font-size: 10px; background: #e8e8e8; border-radius: 2px; padding: 1px 3px; color: #616061; } .time { color: #616061; font-size: 12px; }
.only { color: #616061; font-size: 12px; }
.replies { border-top: 1px solid #e8e8e8; border-bottom: 1px solid #e8e8e8; color: #616061; font-size: 13px; padding: 4px 16px; margin: 4px 0; }
.section { display: flex; gap: 8px; margin: 4px 0; overflow-wrap: anywhere; } .section .body { flex: 1; min-width: 0; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 16px; }
.context { color: #616061; font-size: 12px; margin: 4px 0; overflow-wrap: anywhere; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0; }
.button { display: inline-block; border: 1px solid #c8c8c8; border-radius: 4px; padding: 3px 12px; font-weight: 700; font-size: 14px; background: #fff; }
.button.primary { background: #007a5a; border-color: #007a5a; color: #fff; } .button.danger { background: #e01e5a; border-color: #e01e5a; color: #fff; }
code { font: 12px/1.5 Menlo, Monaco, "DejaVu Sans Mono", monospace; color: #c01343; background: #f6f6f6; border: 1px solid #e8e8e8; border-radius: 3px; padding: 0 2px; overflow-wrap: anywhere; }
pre { font: 12px/1.5 Menlo, Monaco, "DejaVu Sans Mono", monospace; background: #f8f8f8; border: 1px solid #e0e0e0; border-radius: 4px; padding: 8px; margin: 4px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.dot { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 50%; vertical-align: -0.1em; }
.glyph { font-weight: 700; } .glyph.check { color: #fff; background: #4caf50; border-radius: 3px; padding: 0 2px; font-size: 0.85em; }
.badge { color: #fff; background: #1264a3; border-radius: 3px; padding: 0 3px; font-size: 10px; font-weight: 700; vertical-align: 0.1em; }
a { color: #1264a3; text-decoration: none; } .mention { color: #1264a3; background: #e8f5fa; border-radius: 3px; padding: 0 2px; }
.attachment { border-left: 4px solid #ddd; border-radius: 4px 0 0 4px; padding: 0 0 0 12px; margin: 4px 0; }
hr { border: 0; border-top: 1px solid #e8e8e8; margin: 8px 0; }
`;

/**
 * A thread as one page: the parent, "N replies", the replies, and ephemeral answers last.
 * Times are the messages' positions (the emulator's ts are not clock times).
 */
export function threadPage(title: string, parent: ShownMessage, replies: readonly ShownMessage[] = [], ephemerals: readonly ShownMessage[] = []): string {
  const list = [messageHtml(parent, '09:41')];
  if (replies.length > 0) list.push(`<div class="replies">${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}</div>`);
  list.push(...replies.map((r) => messageHtml(r, '09:41')), ...ephemerals.map((e) => messageHtml({ ...e, ephemeral: true }, '09:42')));
  return `<!doctype html><html><head><meta charset="utf-8"><title>${html(title)}</title><style>${STYLE}</style></head><body><div class="thread">${list.join('')}</div></body></html>`;
}

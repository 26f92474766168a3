import { createHash } from 'node:crypto';
import { esc } from './escape';

/**
 * The one stylesheet of every netdoctor page. It is a constant, so the Content-Security-Policy
 * allows exactly it by hash: no inline style attributes, no scripts, nothing loaded from elsewhere.
 */
export const PAGE_CSS = `
:root { color-scheme: light; --crit: #b42318; --warn: #b54708; --info: #175cd3; --ok: #067647; --line: #d0d5dd; --muted: #475467; }
* { box-sizing: border-box; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1100px; padding: 24px; color: #101828; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
pre { background: #f2f4f7; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; overflow-x: auto; white-space: pre-wrap; word-break: break-word; margin: 4px 0 8px; }
code { background: #f2f4f7; border-radius: 4px; padding: 0 4px; word-break: break-all; }
.meta { color: var(--muted); }
.verdict { display: inline-block; font-weight: 700; padding: 2px 10px; border-radius: 12px; color: #fff; }
.verdict-broken, .sev-critical { background: var(--crit); }
.verdict-degraded, .sev-warning { background: var(--warn); }
.verdict-healthy { background: var(--ok); }
.sev-info { background: var(--info); }
.sev { display: inline-block; color: #fff; border-radius: 4px; padding: 0 6px; font-size: 12px; font-weight: 600; text-transform: uppercase; }
.finding { border: 1px solid var(--line); border-radius: 8px; padding: 4px 16px 12px; margin: 12px 0; }
.finding.symptom { margin-left: 32px; border-style: dashed; }
.evidence-type { font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; }
table { border-collapse: collapse; margin: 6px 0; }
td, th { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
.diff .add { color: #067647; } .diff .del { color: #b42318; }
figure { margin: 8px 0; overflow-x: auto; }
svg.cause-graph .node rect { fill: #fff; stroke-width: 2; }
svg.cause-graph .node.sev-critical rect { stroke: var(--crit); }
svg.cause-graph .node.sev-warning rect { stroke: var(--warn); }
svg.cause-graph .node.sev-info rect { stroke: var(--info); }
svg.cause-graph .node.root rect { fill: #fef3f2; }
svg.cause-graph .node { fill: none; }
svg.cause-graph text { fill: #101828; font: 12px system-ui, sans-serif; }
svg.cause-graph text.subject { fill: var(--muted); font-size: 11px; }
svg.cause-graph path.edge { fill: none; stroke: #667085; stroke-width: 1.5; }
svg.cause-graph marker path { fill: #667085; }
`;

const CSS_HASH = `sha256-${createHash('sha256').update(PAGE_CSS).digest('base64')}`;

/**
 * The page's policy: nothing but the hashed stylesheet and data: images (the chart PNG).
 * `frame-ancestors` only works as a header, so the meta tag of an offline file leaves it out.
 */
export function contentSecurityPolicy(asHeader: boolean): string {
  const base = [`default-src 'none'`, `style-src '${CSS_HASH}'`, `img-src data:`, `base-uri 'none'`, `form-action 'none'`];
  return (asHeader ? [...base, `frame-ancestors 'none'`] : base).join('; ');
}

/** A complete, self-contained HTML document (the CSP is in a meta tag too, for files opened from disk). */
export function htmlDocument(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${esc(contentSecurityPolicy(false))}">`,
    '<meta name="referrer" content="no-referrer">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${PAGE_CSS}</style>`,
    '</head>',
    `<body>${body}</body>`,
    '</html>',
    '',
  ].join('\n');
}

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { CliIo } from '../../../src/cli/io';
import { main } from '../../../src/cli/main';
import { PAGE_CSS, contentSecurityPolicy } from '../../../src/render/html/document';
import { esc } from '../../../src/render/html/escape';
import { renderReportPage } from '../../../src/render/html/report-page';
import { HOSTILE, hostilePlans, hostileReport } from '../../support/hostile-report';
import { EXAMPLES_DIR } from '../../support/scenarios';

const page = renderReportPage({ report: hostileReport, runId: 'run-1', plans: hostilePlans });

describe('HTML report page', () => {
  it('has no script, one hashed stylesheet and a CSP that allows only that', () => {
    expect(page).not.toMatch(/<script/i);
    expect(page.match(/<style>/g)).toHaveLength(1);
    expect(page).not.toMatch(/\sstyle=/i);
    expect(page).not.toMatch(/<[^>]*\son[a-z]+=/i);
    const hash = createHash('sha256').update(PAGE_CSS).digest('base64');
    expect(contentSecurityPolicy(true)).toContain(`style-src 'sha256-${hash}'`);
    expect(contentSecurityPolicy(true)).toContain(`default-src 'none'`);
    expect(page).toContain(`<meta http-equiv="Content-Security-Policy" content="${esc(contentSecurityPolicy(false))}">`);
  });

  it('escapes every hostile string and shows control characters as visible pictures', () => {
    for (const s of [HOSTILE.script, HOSTILE.img, HOSTILE.style]) {
      expect(page).not.toContain(s);
      expect(page).toContain(esc(s));
    }
    // eslint-disable-next-line no-control-regex -- no raw control character may reach the page
    expect(page).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    expect(page).toContain('pod\u2400-\u241b[31mred\u2407');
    // Only the page's own stylesheet closes a style element.
    expect(page.match(/<\/style>/g)).toHaveLength(1);
  });

  it('draws one graph node per finding and one edge per causedBy', () => {
    const svg = page.slice(page.indexOf('<svg class="cause-graph"'), page.indexOf('</svg>'));
    expect(svg.match(/<g class="node /g)).toHaveLength(hostileReport.findings.length);
    const edges = [...svg.matchAll(/data-from="([^"]+)" data-to="([^"]+)"/g)].map((m) => `${m[1]}→${m[2]}`);
    expect(edges.sort()).toEqual(['f-root→f-sym-1', 'f-root→f-sym-2']);
  });

  it('shows evidence with its kubectl, the plan with the dry-run diff and its history, and the stats', () => {
    expect(page).toContain(esc(`kubectl describe pod db-${HOSTILE.script} -n triton`));
    expect(page).toContain('<span class="add">+  targetPort: 8080 &lt;script&gt;');
    expect(page).toContain('<span class="del">-  targetPort: 8081</span>');
    for (const event of ['proposed', 'approved', 'applied', 'verified']) expect(page).toContain(`<td>${event}</td>`);
    expect(page).toContain('<td>U0APPROVE</td>');
    expect(page).toMatch(/<th>API calls<\/th><td>12<\/td>/);
    expect(page).toMatch(/<th>Duration<\/th><td>340 ms<\/td>/);
    expect(page).toContain('<th>Read from the apiserver</th><td colspan="3">183.0 KiB</td>');
  });

  it('is written by `netdoctor diagnose --output html` for a dump (no dry run offline)', async () => {
    let out = '';
    const io: CliIo = { stdout: (s) => (out += s), stderr: () => undefined, env: { HOME: '/nonexistent' }, isTTY: false };
    expect(await main(['diagnose', 'triton', '--from', join(EXAMPLES_DIR, 'kube-proxy-lab'), '--output', 'html'], io)).toBe(0);
    expect(out).toMatch(/^<!doctype html>/);
    expect(out).toContain('namespace triton is broken');
    expect(out).toContain('Offline report: no server dry run was made.');
    expect(out).not.toContain('<h3>History</h3>');
  });
});

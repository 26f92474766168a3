// The seed's CNI lab as a Slack thread and a week's digest, through `netdoctor serve` (HTTP mode,
// real queue and workers, report pages) against the Slack emulator; then rendered in chromium at
// a laptop's and a phone's width (docs/slack/ screenshots; the kube-proxy lab's thread, with its
// Approve button on a real apiserver, is in plan-buttons.test.ts).
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { DIAGNOSE_ACTION } from '../../../src/slack/ids';
import { describeBrowser, launchChromium } from '../../support/chromium';
import { eventually } from '../../support/eventually';
import { CHANNEL, type ReportServe, startReportServe } from '../../support/report-serve';
import { EXAMPLES_DIR } from '../../support/scenarios';
import type { ShownMessage } from '../../support/slack-html';
import { SlackEmulator } from '../../support/slack-emulator';
import { shootThread, shown } from '../../support/thread-shots';
import { WEEK } from '../report-page/week';

jest.setTimeout(120_000);

type Button = { type: string; action_id: string; value: string };
type Block = { type: string; elements?: Button[]; text?: { text: string } };

describe('the seed threads in Slack', () => {
  let rs: ReportServe;
  const threads: Record<'cni' | 'digest', { parent: ShownMessage; replies: ShownMessage[] }> = {} as never;

  beforeAll(async () => {
    rs = await startReportServe({ dumpDir: join(EXAMPLES_DIR, 'cni-lab') });
  });

  afterAll(async () => {
    await rs?.stop();
  });

  it('CNI lab: the notification names the missing agent; the reply shows two evidence lines with their kubectl, the rest behind the report link', async () => {
    const link = await rs.diagnose('triton');
    const parent = rs.emulator.parents(CHANNEL).at(-1)!;
    const [reply] = await eventually(() => {
      const replies = rs.emulator.replies(parent.ts);
      if (replies.length === 0) throw new Error('no reply yet');
      return replies;
    });
    expect(SlackEmulator.current(parent).text).toBe('🔴 triton@prod: CNI agent weave-net is not running: Weave Net DaemonSet missing (+6 more)');
    const text = (SlackEmulator.current(reply!).blocks as Block[]).map((b) => b.text?.text ?? '').join('\n');
    const evidence = text.split('\n*Evidence*\n')[1]!.split('\n*')[0]!.split('\n');
    expect(evidence).toEqual([
      expect.stringMatching(/^• `Warning FailedCreatePodSandBox .*` — `kubectl get events -n kube-system /),
      expect.stringMatching(/^• `Warning FailedCreatePodSandBox .*` — `kubectl get events -n triton /),
      `<${link}|+3 more items of evidence in the full report>`,
    ]);
    expect(text).toMatch(/\*Explains 6 symptoms\*/);
    expect(text).toContain('`kubectl -n kube-system rollout status daemonset/weave-net`');
    threads.cni = { parent: shown(parent), replies: rs.emulator.replies(parent.ts).map(shown) };
  });

  it('digest: a coloured bar, root causes with their symptom counts, a Diagnose button per namespace that runs the diagnosis', async () => {
    await rs.digestDays(WEEK);
    const digest = rs.emulator.parents(CHANNEL).find((m) => m.text.startsWith('netdoctor digest 2026-11-30'))!;
    expect(digest.text).toBe('netdoctor digest 2026-11-30 for prod: kube-proxy --config points at missing configuration.conf');
    const [attachment] = digest.attachments as { color: string; blocks: Block[] }[];
    expect(attachment!.color).toBe('#d72b3f');
    const text = attachment!.blocks.map((b) => b.text?.text ?? '').join('\n');
    expect(text).toMatch(/^• :new: \*kube-proxy --config points at missing configuration\.conf\* `daemonset\/kube-proxy -n kube-system` · 1 symptom$/m);
    expect(text).toMatch(/:white_check_mark: \*Resolved since the last digest\*/);
    expect(text).not.toMatch(/\(s\)|0 API calls/);
    const buttons = attachment!.blocks.flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []));
    expect(buttons.map((b) => b.value)).toEqual(['prod/kube-system']);
    threads.digest = { parent: shown(digest), replies: [] };

    const before = rs.emulator.parents(CHANNEL).length;
    await rs.click('U0CAROL01', digest, { action_id: buttons[0]!.action_id, value: buttons[0]!.value });
    expect(buttons[0]!.action_id).toBe(`${DIAGNOSE_ACTION}-kube-system`);
    const run = await eventually(() => {
      const m = rs.emulator.parents(CHANNEL)[before];
      if (!m || !SlackEmulator.current(m).text.startsWith('🔴 kube-system@prod:')) throw new Error('the diagnosis has not finished');
      return m;
    }, 30_000);
    expect(JSON.stringify(SlackEmulator.current(run).blocks)).toContain('requested by <@U0CAROL01>');
  });

  describeBrowser('in a browser (chromium headless)', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('renders the CNI lab thread and the digest at a laptop\'s and a phone\'s width', async () => {
      const cni = await shootThread(browser, 'cni-lab', threads.cni);
      const digest = await shootThread(browser, 'digest', threads.digest);
      // The phone is narrower, so the same thread is taller there than on the laptop.
      for (const shot of [cni, digest]) expect(shot.height.phone).toBeGreaterThan(shot.height.laptop);
    });
  });
});

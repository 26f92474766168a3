// The plan buttons end to end: the real Bolt app (HTTP mode, signed requests), the real queue and
// workers, the real apiserver (kube-proxy lab), Slack emulated. The thread reply shows the
// server-side dry-run diff with Approve / Reject; clicks are signed block_actions payloads. The
// thread is then rendered in chromium at a laptop's and a phone's width (docs/slack/ screenshots).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ScriptedKubelet, kubeletTlsFromPkiDir } from '../../cluster/kubelet';
import { type LoadedScenario, loadScenario } from '../../cluster/load-scenario';
import { startServe, type RunningServe } from '../../../src/cli/serve-command';
import type { RawObject } from '../../../src/domain/kube-types';
import { loadConfig } from '../../../src/config';
import { PLAN_ACTIONS } from '../../../src/slack/ids';
import { silentLogger } from '../../../src/domain/run-context';
import type { Browser } from 'puppeteer-core';
import { describeBrowser, launchChromium } from '../../support/chromium';
import { freePort } from '../../support/report-serve';
import type { ShownMessage } from '../../support/slack-html';
import { type EmulatedMessage, SlackEmulator } from '../../support/slack-emulator';
import { PHONE, shootThread, shown } from '../../support/thread-shots';
import { rollOutDaemonSet } from '../../support/rollout';
import { SCENARIO_DIR } from '../../support/scenarios';
import { liveAdapters } from '../../support/slack-http';
import { eventually } from '../../support/eventually';
import { clickBody, signedHeaders } from '../../support/signed-slack';

jest.setTimeout(120_000);

const SECRET = `secret-${randomUUID()}`;
const CHANNEL = 'C0OPS0001';
const [REQUESTER, BOB] = ['U0ALICE01', 'U0BOB0001'];
const DS_PATH = '/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy';

type Confirm = { title: { text: string }; text: { text: string }; confirm: { text: string } };
type Button = { type: 'button'; action_id: string; value: string; style?: string; confirm?: Confirm };
type Block = { type: string; block_id?: string; elements?: Button[]; accessory?: Button; text?: { text: string } };

describe('plan buttons in Slack', () => {
  let emulator: SlackEmulator;
  let serve: RunningServe;
  let kubelet: ScriptedKubelet;
  let scenario: LoadedScenario;
  let url: string;
  /** The thread as it read before the decision and after the verified fix (rendered by the screenshot tests below). */
  const threads: Record<'proposed' | 'fixed', { parent: ShownMessage; replies: ShownMessage[]; ephemerals?: ShownMessage[] }> = {} as never;

  const send = async (body: string): Promise<number> => (await fetch(`${url}/slack/events`, { method: 'POST', body, headers: signedHeaders(SECRET, body) })).status;
  const blocksOf = (m: EmulatedMessage): Block[] => SlackEmulator.current(m).blocks as Block[];
  const buttons = (m: EmulatedMessage): Button[] => blocksOf(m).flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : b.accessory ? [b.accessory] : []));
  const textOf = (m: EmulatedMessage): string => blocksOf(m).map((b) => b.text?.text ?? '').join('\n');


  const click = (user: string, message: EmulatedMessage, actionId: string, value: string): Promise<number> => send(clickBody(emulator, { user, channel: CHANNEL, message, actionId, value }));

  beforeAll(async () => {
    const admin = process.env.NETDOCTOR_TEST_KUBECONFIG!;
    emulator = await SlackEmulator.start();
    kubelet = await ScriptedKubelet.start({ kubeconfigPath: admin, tls: kubeletTlsFromPkiDir() });
    scenario = await loadScenario(join(SCENARIO_DIR, 'triton-kube-proxy-config'), { kubelet });
    await kubelet.rest.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'nd-buttons-ds' }, rules: [{ apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get', 'patch'] }] }).catch(() => undefined);
    await kubelet.rest.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'nd-buttons-ds' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'nd-buttons-ds' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }] }).catch(() => undefined);
    const reportPort = await freePort();
    const config = loadConfig({
      REDIS_URL: process.env.REDIS_URL,
      NETDOCTOR_REPORT_URL: `http://127.0.0.1:${reportPort}/`,
      NETDOCTOR_REPORT_LINK_KEY: `link-key-${randomUUID()}`,
      NETDOCTOR_QUEUE_PREFIX: `ndbuttons${randomUUID().slice(0, 8)}`,
      NETDOCTOR_CLUSTER: 'lab',
      NETDOCTOR_APPROVERS: `${REQUESTER},${BOB}`,
      NETDOCTOR_PLAN_KEY: 'integration-test-plan-key-0123456789abcdef',
      NETDOCTOR_IDENTITY_MAP: `${REQUESTER}=alice,${BOB}=alice`,
      NETDOCTOR_VERIFY_TIMEOUT_SECONDS: '60',
      SLACK_MODE: 'http',
    });
    serve = await startServe({
      config,
      slack: { mode: 'http', botToken: 'xoxb-test', signingSecret: SECRET, port: 0, host: '127.0.0.1', apiUrl: emulator.apiUrl, retries: 0, timeoutMs: 5_000 },
      log: silentLogger,
      reportPort,
      ...liveAdapters(admin, 'lab'),
    });
    url = `http://127.0.0.1:${serve.port}`;
  });

  afterAll(async () => {
    await serve?.stop();
    await emulator?.close();
    await scenario?.unload();
    await kubelet?.stop();
  });

  it('shows the cause in the notification, the fix once as the indented dry-run diff, Approve / Reject with a confirmation, refusals to the clicker alone; after a verified fix the parent and the reply say so, with one thread message', async () => {
    const body = new URLSearchParams({ command: '/netdoctor', text: 'triton', user_id: REQUESTER, channel_id: CHANNEL, team_id: 'T0EMUL', trigger_id: `trig.${randomUUID()}`, response_url: emulator.responseUrl('cmd') }).toString();
    expect(await send(body)).toBe(200);
    const [parent, reply] = await eventually(() => {
      const p = emulator.parents(CHANNEL)[0];
      const r = p ? emulator.replies(p.ts).find((m) => buttons(m).length > 0) : undefined;
      if (!p || !r) throw new Error('no reply with buttons yet');
      return [p, r] as const;
    }, 60_000);
    const repliesBefore = emulator.replies(parent.ts).map((m) => m.ts);

    // The notification (fallback text) and the first line name the top cause.
    const summary = SlackEmulator.current(parent);
    expect(summary.text).toMatch(/^🔴 triton@lab: kube-proxy --config points at missing configuration\.conf \(\+\d+ more\)$/);
    expect(textOf(parent).split('\n')[0]).toContain('kube-proxy --config points at missing configuration.conf');

    // The fix appears once: the server's dry-run diff, indented as the apiserver stores it; no op list, no guarded patch command.
    const text = textOf(reply);
    const fences = text.split('```').filter((_, i) => i % 2 === 1);
    expect(fences.filter((f) => f.includes('--config=/var/lib/kube-proxy/config.conf'))).toHaveLength(1);
    expect(text).not.toMatch(/kubectl patch|"op":|replace\s+\/spec/);
    expect(text).toMatch(/^\+ {8,}- --config=\/var\/lib\/kube-proxy\/config\.conf$/m);
    expect(text).toMatch(/^- {8,}- --config=\/var\/lib\/kube-proxy\/configuration\.conf$/m);
    // No jargon: no plan id, check id or raw severity in what a human reads (ids stay in button values).
    expect(text).not.toMatch(/plan-[0-9a-f]{16}|kube-proxy-config-path|critical|\(s\)/i);
    expect(textOf(parent)).not.toMatch(/0 API calls|\(s\)/);

    // Approve is the one primary button and confirms naming cluster, namespace and object; Reject is not red.
    const [approve, reject] = buttons(reply);
    expect([approve?.action_id, reject?.action_id]).toEqual([PLAN_ACTIONS.approve, PLAN_ACTIONS.reject]);
    expect(approve!.value).toMatch(/^plan-[0-9a-f]{16}$/);
    expect(approve!.style).toBe('primary');
    expect(reject!.style).toBeUndefined();
    expect(`${approve!.confirm!.title.text} ${approve!.confirm!.text.text}`).toMatch(/\blab\b.*DaemonSet kube-proxy in namespace kube-system/s);
    threads.proposed = { parent: shown(parent), replies: emulator.replies(parent.ts).map(shown) };

    // The requester may not approve their own diagnosis's fix: told to them alone, nothing in the thread.
    expect(await click(REQUESTER, reply, PLAN_ACTIONS.approve, approve!.value)).toBe(200);
    const refusal = await eventually(() => {
      const r = emulator.responses.find((x) => JSON.stringify(x.body).includes('cannot approve its fix'));
      if (!r) throw new Error('no refusal yet');
      return r;
    });
    expect(refusal.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(JSON.stringify(refusal.body)).not.toMatch(/plan-[0-9a-f]{16}/);
    // A forged button value changes nothing.
    expect(await click(BOB, reply, PLAN_ACTIONS.approve, 'plan-ffffffffffffffff')).toBe(200);
    await eventually(() => expect(JSON.stringify(emulator.responses)).toMatch(/unknown or expired/));
    expect(emulator.replies(parent.ts).map((m) => m.ts)).toEqual(repliesBefore);
    const before = await kubelet.rest.request<RawObject>('GET', DS_PATH);

    expect(await click(BOB, reply, PLAN_ACTIONS.approve, approve!.value)).toBe(200);
    await eventually(async () => expect((await kubelet.rest.request<RawObject>('GET', DS_PATH)).metadata!.generation).not.toBe(before.metadata!.generation));
    await rollOutDaemonSet(kubelet, 'kube-system', 'kube-proxy');
    const done = await eventually(() => {
      const m = emulator.replies(parent.ts).find((r) => r.ts === reply.ts)!;
      if (!/\*fixed\* by/.test(textOf(m))) throw new Error('not verified yet');
      return m;
    });
    // The outcome sits under the reply's headline, in the reader's time zone; the diff stays; Rollback confirms.
    const decided = blocksOf(done);
    expect(decided[1]!.text!.text).toMatch(/^:white_check_mark: \*fixed\* by <@U0BOB0001>, verified · <!date\^\d+\^\{date_short_pretty\} \{time\}\|[^>]+>/);
    expect(textOf(done)).toMatch(/^\+ {8,}- --config=\/var\/lib\/kube-proxy\/config\.conf$/m);
    const [rollback, ...others] = buttons(done);
    expect(others).toEqual([]);
    expect(rollback).toMatchObject({ action_id: PLAN_ACTIONS.rollback, confirm: { text: { text: expect.stringMatching(/DaemonSet kube-proxy in namespace kube-system on cluster lab/) } } });
    // The parent shows the fix on its cause's line.
    await eventually(() => expect(textOf(parent)).toMatch(/:white_check_mark: \*fixed\* by <@U0BOB0001>, verified/));
    // One thread message for the decision: its final verdict (the steps only edited the reply).
    const added = await eventually(() => {
      const fresh = emulator.replies(parent.ts).filter((m) => !repliesBefore.includes(m.ts));
      if (fresh.length === 0) throw new Error('no verdict in the thread yet');
      return fresh;
    });
    expect(added.map((m) => m.text)).toEqual([expect.stringMatching(/^<@U0BOB0001>: .*fixed —/)]);
    threads.fixed = { parent: shown(parent), replies: emulator.replies(parent.ts).map(shown), ephemerals: [{ text: '', blocks: (refusal.body.blocks as unknown[]) ?? [] }] };
  });

  describeBrowser('the thread in a browser (chromium headless)', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('reads on a phone: the kube-proxy lab thread reaches its Approve button within 1.5 screens of 420×900', async () => {
      const shot = await shootThread(browser, 'kube-proxy-lab', threads.proposed, `[data-action="${PLAN_ACTIONS.approve}"]`);
      expect(shot.phoneBottomOf).toBeDefined();
      expect(shot.phoneBottomOf!).toBeLessThanOrEqual(1.5 * PHONE.height);
      await shootThread(browser, 'kube-proxy-lab-fixed', threads.fixed);
    });
  });
});

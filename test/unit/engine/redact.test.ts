import { join } from 'node:path';
import { CHECKS } from '../../../src/checks';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { silentLogger } from '../../../src/domain/run-context';
import { diagnose } from '../../../src/engine/diagnose';
import { REDACTED, redactText, secretValuesIn } from '../../../src/engine/redact';
import { loadWorkflows } from '../../../src/engine/workflow';
import { buildDigest } from '../../../src/engine/digest';
import { renderMarkdown } from '../../../src/render/markdown';
import { renderText } from '../../../src/render/text';
import { digestMessage, rootCauseMessage, summaryMessage } from '../../../src/slack/blocks';
import { REPO_SCENARIO_DIR } from '../../support/scenarios';
import { viewOf } from '../../support/view';

describe('redactText', () => {
  it.each([
    ['DB_URL=postgres://admin:S3cr3t@mysql:5432/app', `DB_URL=postgres://${REDACTED}@mysql:5432/app`],
    ['mongodb://u%40x:p@ss@db:27017', `mongodb://${REDACTED}@db:27017`],
    ['DB_Password=paswrd and API_TOKEN: "tok 1"', `DB_Password=${REDACTED} and API_TOKEN: ${REDACTED}`],
    ['--client-secret=abc123 STRIPE_KEY=sk_live_1 apiKey: k1', `--client-secret=${REDACTED} STRIPE_KEY=${REDACTED} apiKey: ${REDACTED}`],
    ['{"name":"MYSQL_ROOT_PASSWORD","value":"paswrd"}', `{"name":"MYSQL_ROOT_PASSWORD","value":"${REDACTED}"}`],
  ])('redacts %s', (text, want) => {
    expect(redactText(text)).toBe(want);
  });

  it.each([
    ['tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token'],
    ['secretKeyRef: {name: db, key: password}'],
    ['{"key":"config.conf","path":"config.conf"} key: config.conf'],
    ['--config=/var/lib/kube-proxy/config.conf https://10.96.0.1:443 DB_Host=mysql'],
    ['the service-account token and CA paths'],
    ['TOKEN_URL=https://auth.example.com/token SECRET_TTL=3600'],
  ])('leaves look-alikes alone: %s', (text) => {
    expect(redactText(text)).toBe(text);
  });

  it('collects the literal values of credential-named env vars, not plain flags nor pointers', () => {
    const view = viewOf(`---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: triton}
spec:
  containers:
  - name: web
    image: web:1
    env:
    - {name: DB_PASSWORD, value: hunter22}
    - {name: DISABLE_TOKEN, value: "true"}
    - {name: TOKEN_FILE, value: /var/run/token}
    - {name: PWD, value: abc}
    - {name: DB_HOST, value: mysql}
`);
    expect(secretValuesIn(view)).toEqual(['hunter22']);
  });

  it('replaces known secret values wherever they appear', () => {
    expect(redactText('mysql -ppaswrd failed', ['paswrd'])).toBe(`mysql -p${REDACTED} failed`);
  });
});

describe('credentials seeded in a scenario reach no output', () => {
  // DB_URL with a password in its userinfo, API_TOKEN, and the seed's DB_Password / MYSQL_ROOT_PASSWORD.
  const SECRETS = ['S3cr3t', 'admin:', 'tok-9f8e7d6c5b4a', 'paswrd'];
  const workflow = loadWorkflows(CHECKS).get('namespace-triage')!;
  const ctx = { runId: 't', log: silentLogger, clock: () => new Date('2026-03-01T06:40:00Z') };

  it('text, markdown, JSON, Block Kit (summary, replies, digest) and the plans that would be stored and audited', async () => {
    const report = await diagnose(ctx, new DumpReader(join(REPO_SCENARIO_DIR, 'credentials-in-env')), workflow, { cluster: 'prod', namespace: 'triton' });
    const root = report.findings[0]!;
    expect(root.code).toBe('WL-ENV-UNKNOWN-SERVICE');
    expect(root.summary).toContain(`DB_URL=postgres://${REDACTED}@mysql-svc:5432/app`);
    // The fix would write the password back: withheld, and said so with the (redacted) change to make by hand.
    expect(root.plan).toBeNull();
    expect(root.advice.join('\n')).toContain(`Set DB_URL of deployment/webapp-mysql (webapp-mysql) to postgres://${REDACTED}@mysql:5432/app: netdoctor proposes no plan for it`);
    const request = { cluster: 'prod', namespace: 'triton', workflow: 'namespace-triage', requestedBy: 'U1', channel: 'C1' };
    const outputs: Record<string, string> = {
      text: renderText(report, { color: false }),
      markdown: renderMarkdown(report),
      json: JSON.stringify(report),
      slackSummary: JSON.stringify(summaryMessage(report, request)),
      slackReplies: JSON.stringify(report.findings.filter((f) => f.rootCause).map((f, i) => rootCauseMessage(report, f, i))),
      slackDigest: JSON.stringify(digestMessage(buildDigest('prod', '2026-03-01', report, [], new Date('2026-03-01T09:00:00Z'), 30).digest)),
      plans: JSON.stringify(report.findings.map((f) => f.plan)),
    };
    for (const [name, out] of Object.entries(outputs)) {
      for (const secret of SECRETS) expect({ name, leaks: out.includes(secret) ? secret : null }).toEqual({ name, leaks: null });
    }
  });
});

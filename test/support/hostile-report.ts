// A report whose every string is hostile: markup, a closing </style>, Slack mrkdwn and control
// characters in pod names, log lines and titles. The page must show them as text.
import { REPORT_API_VERSION, type Report } from '../../src/domain/report';
import type { Finding } from '../../src/domain/finding';
import { makePlan } from '../../src/domain/plan';
import type { PlanRecord } from '../../src/render/html/report-page';

export const HOSTILE = {
  script: '<script>document.title="pwned"</script>',
  img: '<img src=x onerror="document.title=\'pwned\'">',
  style: '</style><style>body{display:none}</style>',
  mrkdwn: '*bold* _it_ <!channel> <https://evil.example|click>',
  control: 'pod\u0000-\u001b[31mred\u0007',
} as const;

const podName = `web-${HOSTILE.control}`;

const plan = makePlan({
  summary: `Point ${HOSTILE.img} at the right port`,
  risk: 'low',
  effect: `Endpoints refill ${HOSTILE.mrkdwn}`,
  operations: [{ action: 'patch', target: { apiVersion: 'v1', kind: 'Service', namespace: 'triton', name: `svc-${HOSTILE.style}` }, patchType: 'json', patch: [{ op: 'test', path: '/spec/ports/0/targetPort', value: 8081 }, { op: 'replace', path: '/spec/ports/0/targetPort', value: 8080 }], resourceVersion: '42' }],
  verify: { check: 'service-target-port', subject: { kind: 'Service', namespace: 'triton', name: 'web' }, waitFor: 'endpoints' },
});

const root: Finding = {
  id: 'f-root',
  check: 'service-target-port',
  code: 'SVC-TARGET-PORT',
  severity: 'critical',
  title: `Service targets a closed port ${HOSTILE.script}`,
  summary: `Nothing listens ${HOSTILE.img}`,
  subject: { kind: 'Service', namespace: 'triton', name: `web${HOSTILE.style}` },
  evidence: [{ type: 'log', text: `${HOSTILE.script}\n${HOSTILE.control} connection refused`, command: `kubectl logs ${podName} -n triton` }],
  rootCause: true,
  causedBy: null,
  symptoms: ['f-sym-1', 'f-sym-2'],
  explains: [],
  advice: [`Check ${HOSTILE.mrkdwn}`],
  plan,
};

function symptom(id: string, name: string): Finding {
  return {
    id,
    check: 'pod-not-running',
    code: 'POD-NOT-READY',
    severity: 'warning',
    title: `Pod ${name} is not ready`,
    summary: `Readiness probe failed ${HOSTILE.mrkdwn}`,
    subject: { kind: 'Pod', namespace: 'triton', name },
    evidence: [{ type: 'event', text: `Readiness probe failed: ${HOSTILE.img}`, command: `kubectl describe pod ${name} -n triton` }],
    rootCause: false,
    causedBy: 'f-root',
    symptoms: [],
    explains: [],
    advice: [],
    plan: null,
  };
}

export const hostileReport: Report = {
  apiVersion: REPORT_API_VERSION,
  target: { cluster: 'lab', namespace: 'triton' },
  workflow: 'namespace-triage',
  generatedAt: '2026-11-30T10:00:00.000Z',
  findings: [root, symptom('f-sym-1', podName), symptom('f-sym-2', `db-${HOSTILE.script}`)],
  checks: [{ id: 'service-target-port', status: 'ok' }, { id: 'dns', status: 'failed', error: HOSTILE.style }],
  readErrors: [],
  stats: { apiCalls: 12, durationMs: 340, objects: 57, readBytes: 187_392 },
};

export const hostilePlans: Record<string, PlanRecord> = {
  [plan.id]: {
    state: 'applied',
    diff: `--- Service/triton/web\n+++ Service/triton/web (dry run)\n-  targetPort: 8081\n+  targetPort: 8080 ${HOSTILE.script}`,
    events: [
      { at: '2026-11-30T10:00:01.000Z', event: 'proposed', actor: 'U0REQUEST' },
      { at: '2026-11-30T10:02:00.000Z', event: 'approved', actor: 'U0APPROVE' },
      { at: '2026-11-30T10:02:03.000Z', event: 'applied', detail: `resourceVersion 42 → 43 ${HOSTILE.img}` },
      { at: '2026-11-30T10:03:00.000Z', event: 'verified', detail: 'fixed' },
    ],
  },
};

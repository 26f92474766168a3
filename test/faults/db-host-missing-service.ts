// webapp's DB_Host edited to name a Service that does not exist (mysql-service; the Service is mysql).
import { type Fault, deploymentPath, jsonPatch, pageSays, podLines, pods, podReady, symptom } from './fault';

const ENV = '/spec/template/spec/containers/0/env/0';

export const dbHostMissingService: Fault = {
  name: 'db-host-missing-service',
  description: 'kubectl set env deployment/webapp-mysql DB_Host=mysql-service on the real node: no Service of that name; webapp cannot resolve it.',
  async break(c) {
    await jsonPatch(c, deploymentPath('triton', 'webapp-mysql'), [
      { op: 'test', path: `${ENV}/name`, value: 'DB_Host' },
      { op: 'replace', path: `${ENV}/value`, value: 'mysql-service' },
    ]);
  },
  breakBoundMs: 0,
  async ready(c) {
    const web = await pods(c, 'triton', 'name=webapp-mysql', { terminating: true });
    symptom([[web.length === 1 && podReady(web[0]!) && !web[0]!.metadata.deletionTimestamp, `webapp not rolled out to one Ready pod: ${podLines(web)}`]]);
    await pageSays(c, /lookup mysql-service/);
  },
  expected: {
    rootCause: { code: 'WL-ENV-UNKNOWN-SERVICE', mentions: ['DB_Host', 'mysql-service'], fixContains: 'mysql' },
    plan: true,
  },
};

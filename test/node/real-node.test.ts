// The real node (test/cluster/node.ts, started by the node project's globalSetup): its readiness
// gate already proved the path once; these tests show it to the reader and keep it honest.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CliIo } from '../../src/cli/io';
import { main } from '../../src/cli/main';
import { verdictOf, type Report } from '../../src/domain/report';

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

const appUrl = process.env.NETDOCTOR_NODE_APP_URL!;

describe('real node', () => {
  test('web-service NodePort 30081 on the host reaches webapp, which resolves mysql through CoreDNS and connects', async () => {
    expect(appUrl).toBe('http://127.0.0.1:30081/');
    const r = await get(appUrl);
    expect(r.status).toBe(200);
    expect(r.body).toContain('Successfully connected to the MySQL database.');
    // The address webapp connected to is mysql's ClusterIP, which only CoreDNS could have given it.
    expect(r.body).toMatch(/DB_Host=mysql \(10\.(9[6-9]|1[01]\d)\.\d+\.\d+\)/);
  });
});

describe('netdoctor on the real node', () => {
  const kubeconfig = process.env.NETDOCTOR_NODE_KUBECONFIG!;
  const run = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), env: {}, isTTY: false };
    const code = await main(args, io);
    return { code, stdout: out.join(''), stderr: err.join('') };
  };

  test('diagnose triton reports no warning or critical finding', async () => {
    const r = await run(['diagnose', 'triton', '--kubeconfig', kubeconfig, '--output', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.checks.filter((c) => c.status === 'failed')).toEqual([]);
    const loud = report.findings.filter((f) => f.severity === 'warning' || f.severity === 'critical');
    expect(loud.map((f) => `${f.severity} ${f.check}: ${f.title} — ${f.summary}`)).toEqual([]);
    expect(verdictOf(report)).toBe('healthy');
  }, 120_000);

  test('snapshot triton kube-system writes a dump that reads back as healthy (NETDOCTOR_UPDATE_REAL_SCENARIO=1 keeps it)', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'netdoctor-real-snapshot-'));
    try {
      const s = await run(['snapshot', 'triton', 'kube-system', '--out', out, '--kubeconfig', kubeconfig]);
      expect(s.code).toBe(0);
      const d = await run(['diagnose', 'triton', '--from', out, '--output', 'json']);
      expect(d.code).toBe(0);
      expect(verdictOf(JSON.parse(d.stdout) as Report)).toBe('healthy');
      if (process.env.NETDOCTOR_UPDATE_REAL_SCENARIO === '1') {
        const dir = path.join(__dirname, '..', 'scenarios', 'real', 'healthy');
        for (const f of ['objects.yaml', 'logs']) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
        fs.cpSync(out, dir, { recursive: true });
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});

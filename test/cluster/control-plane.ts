// A disposable, real Kubernetes control plane for tests:
//   etcd → kube-apiserver → kube-controller-manager → kube-scheduler
// as plain child processes on free 127.0.0.1 ports, with a fresh PKI (openssl CLI)
// in a temp dir. There is no kubelet: test/cluster/kubelet.ts plays that part.
//
// Only node built-ins are used here (no @kubernetes/client-node), so this module can
// run inside jest's globalSetup, which does not transform ESM packages.
//
// Every child runs in its own process group (detached) and is killed by -pgid on
// stop(), on a failed start, on process exit, and — for runs that were SIGKILLed —
// by the stale-run sweep at the next start (owner.json in each work dir).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** kube-controller-manager controllers.
 *
 * Deliberate choice: a test cluster holds *frozen* scenario dumps, so every controller
 * that would create, replace, evict or re-taint pods/nodes is off:
 *  - replicaset, deployment, daemonset, statefulset, replicationcontroller, job, cronjob:
 *    would create pods with new names next to (or instead of) the dump's pods, and would
 *    rewrite the workloads' status; the loader writes the dump's status instead.
 *  - nodelifecycle, taint-eviction-controller: would mark fake nodes NotReady/unreachable
 *    (no kubelet heartbeats) and evict pods.
 *  - podgc: deletes pods bound to unknown nodes and terminating pods.
 *  - ttl: annotates nodes (non-deterministic node metadata).
 * Everything else stays on — in particular endpoints-controller,
 * endpointslice-controller, endpointslice-mirroring-controller (Endpoints/EndpointSlices
 * come from the real controllers), serviceaccount(-token)-controller, namespace-controller,
 * garbage-collector-controller, clusterrole-aggregation-controller,
 * root-ca-certificate-publisher-controller, resourcequota-controller.
 * (Names as listed by `kube-controller-manager --help` in v1.36.)
 */
export const DEFAULT_CONTROLLERS = [
  '*',
  '-replicaset-controller',
  '-deployment-controller',
  '-daemonset-controller',
  '-statefulset-controller',
  '-replicationcontroller-controller',
  '-job-controller',
  '-cronjob-controller',
  '-node-lifecycle-controller',
  '-taint-eviction-controller',
  '-device-taint-eviction-controller',
  '-pod-garbage-collector-controller',
  '-ttl-controller',
].join(',');

export const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/12';

/**
 * TaintNodesByCondition would put node.kubernetes.io/not-ready:NoSchedule on every new Node and
 * only the (disabled) node-lifecycle controller removes it. ServiceAccount admission is off (as in
 * envtest) so dump pods are stored as dumped (no SA lookup, no injected token volume) and bare
 * pods need no `default` SA wait.
 */
export const DEFAULT_DISABLED_ADMISSION_PLUGINS = ['TaintNodesByCondition', 'ServiceAccount'];

export interface ControlPlaneOptions {
  /** Directory with etcd, kube-apiserver, kube-controller-manager, kube-scheduler. */
  binDir: string;
  /** Parent of the work dir (default os.tmpdir()). */
  tmpRoot?: string;
  /** KCM --controllers (default DEFAULT_CONTROLLERS). */
  controllers?: string;
  /** Start kube-scheduler (default true). */
  scheduler?: boolean;
  /** Wait until the controller-manager has created ServiceAccount default/default (default true). */
  waitForControllers?: boolean;
  /** kube-apiserver admission plugins to turn off (default DEFAULT_DISABLED_ADMISSION_PLUGINS). */
  disableAdmissionPlugins?: string[];
  /**
   * A non-loopback address of this machine for the apiserver to advertise (node mode): it then
   * listens on all addresses, carries the address in its serving cert, and keeps the `kubernetes`
   * Service's endpoints (pods reach it through 10.96.0.1). Default: 127.0.0.1 only, no endpoints.
   */
  advertiseAddress?: string;
  extraApiserverArgs?: string[];
  /** Appended to etcd's flags (a later flag wins over the default before it). */
  extraEtcdArgs?: string[];
  extraControllerManagerArgs?: string[];
  /** Keep the work dir (PKI, logs, etcd data) after stop(). Also NETDOCTOR_KEEP_CLUSTER_DIR=1. */
  keepWorkDir?: boolean;
  /** Progress/timing lines (default: console.error). */
  log?: (line: string) => void;
  /** Overall start timeout (default 120 s). */
  timeoutMs?: number;
}

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  adminCert: string;
  adminKey: string;
  /** Serving cert/key for scripted kubelets (SAN 127.0.0.1, localhost). */
  kubeletServingCert: string;
  kubeletServingKey: string;
}

export interface ControlPlane {
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  workDir: string;
  pki: Pki;
  ports: { etcd: number; etcdPeer: number; apiserver: number };
  /** Wall time of start, ms. */
  startMs: number;
  /** Process ids of etcd, the apiserver and the controllers that are still running. */
  pids(): number[];
  stop(): Promise<void>;
}

export interface Proc {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: boolean;
  exitCode: number | null;
}

/** Starts `file` in its own process group, stdout/stderr appended to `<workDir>/<name>.log`. */
export function spawnLogged(workDir: string, name: string, file: string, args: string[]): Proc {
  const logFile = path.join(workDir, `${name}.log`);
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(file, args, { detached: true, stdio: ['ignore', fd, fd], cwd: workDir });
  fs.closeSync(fd);
  const p: Proc = { name, child, logFile, exited: false, exitCode: null };
  child.on('exit', (code, sig) => {
    p.exited = true;
    p.exitCode = code ?? (sig ? 128 : null);
  });
  child.on('error', () => {
    p.exited = true;
  });
  return p;
}

/** Stops processes in reverse start order: SIGTERM to the group, SIGKILL after 5 s. */
export async function stopInReverse(procs: Proc[]): Promise<void> {
  for (const p of [...procs].reverse()) {
    if (p.exited) continue;
    killGroup(p.child.pid, 'SIGTERM');
    const until = Date.now() + 5000;
    while (!p.exited && Date.now() < until) await sleep(50);
    if (!p.exited) {
      killGroup(p.child.pid, 'SIGKILL');
      const until2 = Date.now() + 2000;
      while (!p.exited && Date.now() < until2) await sleep(50);
    }
  }
}

const STALE_PREFIX = 'netdoctor-cp-';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function openssl(cwd: string, args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function genKey(dir: string, name: string): void {
  openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`]);
}

/** Writes `<dir>/<name>.{key,crt}`, a leaf cert for `subj` signed by the CA in `<dir>/ca.{crt,key}`; `ext` are openssl x509v3 lines. */
export function signCert(dir: string, name: string, subj: string, ext: string): void {
  genKey(dir, name);
  openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', subj, '-out', `${name}.csr`]);
  fs.writeFileSync(path.join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n${ext}\n`);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '7',
    '-out', `${name}.crt`, '-extfile', `${name}.ext`]);
}

/** Fresh CA + leaf certs (ECDSA P-256, 7 days) with the openssl CLI; `extraIps` join the apiserver cert's SANs. */
export function makePki(dir: string, extraIps: string[] = []): Pki & { files: Record<string, string> } {
  fs.mkdirSync(dir, { recursive: true });
  const p = (f: string) => path.join(dir, f);
  genKey(dir, 'ca');
  openssl(dir, ['req', '-x509', '-new', '-key', 'ca.key', '-days', '7', '-subj', '/CN=netdoctor-test-ca', '-out', 'ca.crt',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
  const sign = (name: string, subj: string, ext: string) => signCert(dir, name, subj, ext);
  sign('apiserver', '/CN=kube-apiserver',
    'extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,' +
    'DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1' + extraIps.map((ip) => `,IP:${ip}`).join(''));
  sign('admin', '/O=system:masters/CN=netdoctor-admin', 'extendedKeyUsage=clientAuth');
  sign('controller-manager', '/CN=system:kube-controller-manager', 'extendedKeyUsage=clientAuth');
  sign('scheduler', '/CN=system:kube-scheduler', 'extendedKeyUsage=clientAuth');
  sign('apiserver-kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client', 'extendedKeyUsage=clientAuth');
  sign('kubelet-serving', '/CN=scripted-kubelet', 'extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost');
  genKey(dir, 'sa');
  openssl(dir, ['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
  return {
    dir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    adminCert: p('admin.crt'),
    adminKey: p('admin.key'),
    kubeletServingCert: p('kubelet-serving.crt'),
    kubeletServingKey: p('kubelet-serving.key'),
    files: Object.fromEntries(fs.readdirSync(dir).map((f) => [f, p(f)])),
  };
}

export function writeKubeconfig(file: string, server: string, caFile: string, certFile: string, keyFile: string, user = 'admin'): void {
  const b64 = (f: string) => fs.readFileSync(f).toString('base64');
  fs.writeFileSync(file, [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: netdoctor-test',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(caFile)}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    client-certificate-data: ${b64(certFile)}`,
    `    client-key-data: ${b64(keyFile)}`,
    'contexts:',
    '- name: netdoctor-test',
    '  context:',
    '    cluster: netdoctor-test',
    `    user: ${user}`,
    'current-context: netdoctor-test',
    '',
  ].join('\n'), { mode: 0o600 });
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

/** Kill leftovers of earlier runs whose owning process died (e.g. jest was SIGKILLed). */
export function sweepStaleRuns(tmpRoot = os.tmpdir(), log: (l: string) => void = () => {}): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(tmpRoot).filter((e) => e.startsWith(STALE_PREFIX));
  } catch {
    return;
  }
  for (const e of entries) {
    const dir = path.join(tmpRoot, e);
    let owner: { ownerPid: number; pids: number[] };
    try {
      owner = JSON.parse(fs.readFileSync(path.join(dir, 'owner.json'), 'utf8'));
    } catch {
      continue;
    }
    if (pidAlive(owner.ownerPid)) continue;
    for (const pid of owner.pids) {
      // Guard against pid reuse: only kill processes whose command line names this dir.
      let cmdline: string;
      try {
        cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (cmdline.includes(dir)) killGroup(pid, 'SIGKILL');
    }
    log(`[control-plane] swept stale run ${dir}`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function httpGet(url: string, opts: https.RequestOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { ...opts, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

export function tail(file: string, n = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const t0 = Date.now();
  const log = opts.log ?? ((l: string) => console.error(l));
  const tmpRoot = opts.tmpRoot ?? os.tmpdir();
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const deadline = t0 + timeoutMs;
  const bin = (n: string) => {
    const f = path.join(opts.binDir, n);
    if (!fs.existsSync(f)) throw new Error(`control-plane: missing binary ${f} (run test/cluster/build.sh)`);
    return f;
  };

  sweepStaleRuns(tmpRoot, log);
  const workDir = fs.mkdtempSync(path.join(tmpRoot, STALE_PREFIX));
  const procs: Proc[] = [];
  const ownerFile = path.join(workDir, 'owner.json');
  const saveOwner = () =>
    fs.writeFileSync(ownerFile, JSON.stringify({ ownerPid: process.pid, pids: procs.map((p) => p.child.pid).filter(Boolean) }));
  saveOwner();

  const onExit = () => {
    for (const p of procs) if (!p.exited) killGroup(p.child.pid, 'SIGKILL');
  };
  process.on('exit', onExit);
  // Children run in their own process groups, so a Ctrl-C on jest does not reach them:
  // kill them, then re-raise the signal when nobody else handles it.
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const onSignal = (sig: NodeJS.Signals) => {
    onExit();
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };
  for (const sig of signals) process.once(sig, onSignal);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Reverse start order: scheduler, KCM, apiserver, etcd.
    await stopInReverse(procs);
    process.removeListener('exit', onExit);
    for (const sig of signals) process.removeListener(sig, onSignal);
    if (opts.keepWorkDir || process.env.NETDOCTOR_KEEP_CLUSTER_DIR === '1') {
      log(`[control-plane] kept ${workDir}`);
    } else {
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  };

  const run = (name: string, file: string, args: string[]): Proc => {
    const p = spawnLogged(workDir, name, file, args);
    procs.push(p);
    saveOwner();
    return p;
  };

  const waitFor = async (what: string, p: Proc | null, probe: () => Promise<boolean>): Promise<void> => {
    for (;;) {
      if (p?.exited) throw new Error(`control-plane: ${p.name} exited (code ${p.exitCode}) while waiting for ${what}:\n${tail(p.logFile)}`);
      try {
        if (await probe()) return;
      } catch {
        /* not yet */
      }
      if (Date.now() > deadline) {
        throw new Error(`control-plane: timeout waiting for ${what}` + (p ? `:\n${tail(p.logFile)}` : ''));
      }
      await sleep(100);
    }
  };

  try {
    const advertise = opts.advertiseAddress;
    const pki = makePki(path.join(workDir, 'pki'), advertise ? [advertise] : []);
    const f = pki.files;
    const [etcdPort, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    const tPki = Date.now();

    // --- etcd
    const etcd = run('etcd', bin('etcd'), [
      '--name=default',
      `--data-dir=${path.join(workDir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
      '--listen-metrics-urls=',
      '--unsafe-no-fsync=true',
      '--quota-backend-bytes=2147483648',
      '--log-level=warn',
      ...(opts.extraEtcdArgs ?? []),
    ]);
    await waitFor('etcd /health', etcd, async () => {
      const r = await httpGet(`http://127.0.0.1:${etcdPort}/health`);
      return r.status === 200 && r.body.includes('"health":"true"');
    });
    const tEtcd = Date.now();

    // --- kube-apiserver
    const server = `https://127.0.0.1:${apiPort}`;
    const api = run('kube-apiserver', bin('kube-apiserver'), [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      `--bind-address=${advertise ? '0.0.0.0' : '127.0.0.1'}`,
      `--advertise-address=${advertise ?? '127.0.0.1'}`,
      `--secure-port=${apiPort}`,
      `--cert-dir=${path.join(workDir, 'apiserver-certs')}`,
      `--tls-cert-file=${f['apiserver.crt']}`,
      `--tls-private-key-file=${f['apiserver.key']}`,
      `--client-ca-file=${pki.caCert}`,
      '--authorization-mode=Node,RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${f['sa.pub']}`,
      `--service-account-signing-key-file=${f['sa.key']}`,
      `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
      '--allow-privileged=true',
      // Without an advertised address the `kubernetes` Service's Endpoints would point at
      // 127.0.0.1, which Endpoints validation rejects; only pods (node mode) need them.
      `--endpoint-reconciler-type=${advertise ? 'lease' : 'none'}`,
      // Scripted kubelets are reached on 127.0.0.1: nodes they create carry InternalIP
      // 127.0.0.1; the scenario loader adds an InternalDNS 127.0.0.1 address to dump
      // nodes so their real InternalIP stays as dumped.
      '--kubelet-preferred-address-types=InternalDNS,InternalIP,Hostname,ExternalDNS,ExternalIP',
      `--kubelet-client-certificate=${f['apiserver-kubelet-client.crt']}`,
      `--kubelet-client-key=${f['apiserver-kubelet-client.key']}`,
      `--disable-admission-plugins=${(opts.disableAdmissionPlugins ?? DEFAULT_DISABLED_ADMISSION_PLUGINS).join(',')}`,
      '--enable-priority-and-fairness=false',
      '--profiling=false',
      '--event-ttl=24h',
      '--v=1',
      ...(opts.extraApiserverArgs ?? []),
    ]);
    const adminTls = { ca: fs.readFileSync(pki.caCert), cert: fs.readFileSync(pki.adminCert), key: fs.readFileSync(pki.adminKey) };
    await waitFor('kube-apiserver /readyz', api, async () => (await httpGet(`${server}/readyz`, adminTls)).status === 200);
    const tApi = Date.now();

    const kubeconfigPath = path.join(workDir, 'admin.kubeconfig');
    writeKubeconfig(kubeconfigPath, server, pki.caCert, pki.adminCert, pki.adminKey);
    const kcmKubeconfig = path.join(workDir, 'controller-manager.kubeconfig');
    writeKubeconfig(kcmKubeconfig, server, pki.caCert, f['controller-manager.crt']!, f['controller-manager.key']!, 'system:kube-controller-manager');
    const schedKubeconfig = path.join(workDir, 'scheduler.kubeconfig');
    writeKubeconfig(schedKubeconfig, server, pki.caCert, f['scheduler.crt']!, f['scheduler.key']!, 'system:kube-scheduler');

    // --- kube-controller-manager (kubeadm style: per-controller service-account credentials)
    run('kube-controller-manager', bin('kube-controller-manager'), [
      `--kubeconfig=${kcmKubeconfig}`,
      '--secure-port=0',
      '--leader-elect=false',
      `--controllers=${opts.controllers ?? DEFAULT_CONTROLLERS}`,
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${f['sa.key']}`,
      `--root-ca-file=${pki.caCert}`,
      `--cluster-signing-cert-file=${pki.caCert}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
      '--v=1',
      ...(opts.extraControllerManagerArgs ?? []),
    ]);
    // --- kube-scheduler
    if (opts.scheduler !== false) {
      run('kube-scheduler', bin('kube-scheduler'), [
        `--kubeconfig=${schedKubeconfig}`,
        '--secure-port=0',
        '--leader-elect=false',
        '--v=1',
      ]);
    }
    if (opts.waitForControllers !== false) {
      const kcm = procs.find((p) => p.name === 'kube-controller-manager')!;
      await waitFor('ServiceAccount default/default (controller-manager up)', kcm, async () =>
        (await httpGet(`${server}/api/v1/namespaces/default/serviceaccounts/default`, adminTls)).status === 200);
    }
    for (const p of procs) if (p.exited) throw new Error(`control-plane: ${p.name} exited:\n${tail(p.logFile)}`);
    const tEnd = Date.now();
    const startMs = tEnd - t0;
    log(`[control-plane] started in ${(startMs / 1000).toFixed(1)} s ` +
      `(pki ${tPki - t0} ms, etcd ${tEtcd - tPki} ms, apiserver ${tApi - tEtcd} ms, controllers ${tEnd - tApi} ms) ` +
      `server=${server} dir=${workDir}`);
    const pids = (): number[] => procs.filter((p) => !p.exited && p.child.pid).map((p) => p.child.pid!);
    return { kubeconfigPath, server, workDir, pki, ports: { etcd: etcdPort, etcdPeer, apiserver: apiPort }, startMs, pids, stop };
  } catch (e) {
    const keep = process.env.NETDOCTOR_KEEP_CLUSTER_DIR;
    process.env.NETDOCTOR_KEEP_CLUSTER_DIR = '1'; // keep logs of a failed start for diagnosis
    await stop().catch(() => {});
    if (keep === undefined) delete process.env.NETDOCTOR_KEEP_CLUSTER_DIR;
    else process.env.NETDOCTOR_KEEP_CLUSTER_DIR = keep;
    throw e;
  }
}

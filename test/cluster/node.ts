// The node mode of the test cluster: one real Kubernetes node beside the control plane.
//   containerd (Debian package; private config, root, state, socket, netns dir)
//   kubelet (built by build-node.sh from the control plane's module), Node `controlplane`
//   add-ons applied as manifests (node/addons.yaml): kube-proxy DaemonSet + ConfigMap laid out as
//     kubeadm does, flannel DaemonSet (flanneld + its CNI plugin), CoreDNS Deployment + kube-dns Service
//   the seed's triton app (node/triton.yaml)
// Every image is imported from the OCI archives build-node.sh wrote; nothing is pulled.
//
// The node holds machine-wide things (the cni0 bridge, flannel.1, iptables chains, NodePort 30081,
// cgroups under kubepods), so one node runs per machine at a time (a lock file), and stop() — or
// the next start, when the owner died — removes them all (cleanHost).
//
// Only node built-ins and `yaml` are used, so this runs inside jest's globalSetup.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  SERVICE_CLUSTER_IP_RANGE, httpGet, killGroup, pidAlive, signCert, sleep, spawnLogged, stopInReverse, tail, writeKubeconfig,
  type ControlPlane, type ControlPlaneOptions, type Proc,
} from './control-plane';

export const NODE_NAME = 'controlplane';
export const CLUSTER_CIDR = '10.244.0.0/16';
export const NODE_PORT = 30081;
const KUBELET_PORT = 10250;
const WORK_PREFIX = 'netdoctor-node-';
const LOCK_FILE = '/run/netdoctor-node.lock';
// Network devices and iptables chains the node's components create under fixed names.
const LINKS = ['cni0', 'flannel.1', 'netdoctor0'];
/**
 * Service and pod addresses without a rule or a local route yet (before kube-proxy syncs, or a
 * ClusterIP without endpoints) would follow the default route off this machine. A bridge without ports
 * takes them instead (like the dummy kube-ipvs0 of kube-proxy's IPVS mode: this kernel has no dummy
 * driver); kube-proxy's DNAT in the
 * nat OUTPUT/PREROUTING chains reroutes the packets it handles.
 */
const SINK_LINK = 'netdoctor0';
const CHAIN_PREFIXES = ['KUBE-', 'FLANNEL-', 'CNI-'];
/** The manifests the node applies, in order, as written to `<workDir>/manifests/` (templates filled in). */
export const MANIFESTS = ['addons.yaml', 'triton.yaml'] as const;

/** The control-plane options of the node mode: a real cluster's controllers and admission. */
export function nodeModeControlPlaneOptions(nodeIp: string): Partial<ControlPlaneOptions> {
  return {
    advertiseAddress: nodeIp,
    // All default controllers (workloads, node lifecycle, pod GC ...), as kubeadm runs them.
    controllers: '*',
    disableAdmissionPlugins: [],
    extraControllerManagerArgs: ['--allocate-node-cidrs=true', `--cluster-cidr=${CLUSTER_CIDR}`, '--node-cidr-mask-size=24'],
  };
}

/** The source address of this machine's default route: the node's InternalIP. */
export function defaultRouteIp(): string {
  const routes = JSON.parse(execFileSync('ip', ['-j', '-4', 'route', 'show', 'default'], { encoding: 'utf8' })) as
    { dev: string; prefsrc?: string }[];
  if (!routes[0]) throw new Error('node: this machine has no IPv4 default route, so no node address');
  const addrs = JSON.parse(execFileSync('ip', ['-j', '-4', 'addr', 'show', 'dev', routes[0].dev], { encoding: 'utf8' })) as
    { addr_info: { local: string; scope: string }[] }[];
  const ip = routes[0].prefsrc ?? addrs[0]?.addr_info.find((a) => a.scope === 'global')?.local;
  if (!ip) throw new Error(`node: no IPv4 address on ${routes[0].dev}`);
  return ip;
}

export interface NodeOptions {
  /** Output dir of test/cluster/build-node.sh (binaries + images/). */
  binDir: string;
  /** A control plane started with nodeModeControlPlaneOptions(nodeIp). */
  cluster: ControlPlane;
  nodeIp: string;
  /** Versions written into the manifests (image tags). */
  versions: { kubernetes: string; flannel: string; cniPlugins: string; coredns: string };
  tmpRoot?: string;
  log?: (line: string) => void;
  /** Until the NodePort answers with a database connection (default 300 s). */
  timeoutMs?: number;
}

export interface TestNode {
  workDir: string;
  nodeName: string;
  /** http://127.0.0.1:30081/ */
  appUrl: string;
  startMs: number;
  stop(): Promise<void>;
}

interface Owner {
  ownerPid: number;
  pids: number[];
  ipForward: string;
  createdLibModules: boolean;
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryRun(cmd: string, args: string[]): string {
  try {
    return run(cmd, args);
  } catch {
    return '';
  }
}

/** The socket of the containerd of the node whose work dir is `workDir`. */
const containerdSocket = (workDir: string): string => path.join(workDir, 'containerd', 'containerd.sock');

/** `ctr images import` of an OCI archive into the node's containerd (namespace k8s.io, the kubelet's). */
export function importImage(workDir: string, archive: string): void {
  run('ctr', ['--address', containerdSocket(workDir), '-n', 'k8s.io', 'images', 'import', archive]);
}

function requireTools(): void {
  const missing = ['containerd', 'containerd-shim-runc-v2', 'ctr', 'runc', 'iptables', 'conntrack', 'ip']
    .filter((t) => !tryRun('sh', ['-c', `command -v ${t}`]).trim());
  for (const p of ['bridge', 'host-local', 'loopback', 'portmap']) if (!fs.existsSync(`/usr/lib/cni/${p}`)) missing.push(`/usr/lib/cni/${p}`);
  if (missing.length) {
    throw new Error(`node: missing ${missing.join(', ')} (apt-get install containerd runc containernetworking-plugins iptables conntrack iproute2)`);
  }
}

/** Processes in a cgroup tree (cgroup v1 `pids` or `cpu` hierarchy). */
function cgroupPids(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    try {
      out.push(...fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number));
    } catch {
      /* gone */
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name));
  };
  walk(dir);
  return out;
}

function rmdirTree(dir: string): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) rmdirTree(path.join(dir, e.name));
  try {
    fs.rmdirSync(dir);
  } catch {
    /* busy or gone */
  }
}

function cgroupRoots(): string[] {
  try {
    return fs.readdirSync('/sys/fs/cgroup').map((c) => path.join('/sys/fs/cgroup', c, 'kubepods')).filter((d) => fs.existsSync(d));
  } catch {
    return [];
  }
}

/** Deletes the rules that jump to, and the chains named, KUBE-/FLANNEL-/CNI-… in every table. */
function cleanIptables(bin: 'iptables' | 'ip6tables'): void {
  const ours = (chain: string) => CHAIN_PREFIXES.some((p) => chain.startsWith(p));
  for (const table of ['filter', 'nat', 'mangle', 'raw']) {
    const lines = tryRun(bin, ['-w', '-t', table, '-S']).split('\n');
    for (const l of lines) {
      const m = /^-A (\S+) (.*)$/.exec(l);
      if (!m || ours(m[1]!)) continue;
      const jump = / -[jg] (\S+)/.exec(l)?.[1];
      if (jump && ours(jump)) tryRun('sh', ['-c', `${bin} -w -t ${table} -D ${m[1]} ${m[2]}`]);
    }
    const chains = lines.map((l) => /^-N (\S+)$/.exec(l)?.[1]).filter((c): c is string => !!c && ours(c));
    for (const c of chains) tryRun(bin, ['-w', '-t', table, '-F', c]);
    for (const c of chains) tryRun(bin, ['-w', '-t', table, '-X', c]);
  }
}

/**
 * Removes everything a node run left on the machine: its processes (kubelet, containerd, shims, and
 * every container process, found by cgroup), mounts under its work dir, the CNI devices, iptables
 * chains, cgroups, CNI result cache entries, kubelet log links; restores ip_forward.
 */
export function cleanHost(workDir: string, owner: Owner | null): void {
  const kill = (pid: number) => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  for (const root of cgroupRoots()) for (const pid of cgroupPids(root)) kill(pid);
  for (const pid of owner?.pids ?? []) {
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes(workDir)) killGroup(pid, 'SIGKILL');
  }
  // containerd's shims daemonize (own session), so find them by the socket path they were given.
  for (const p of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmd.startsWith('containerd-shim') || cmd.includes('/containerd-shim')) {
        if (cmd.includes(workDir)) kill(Number(p));
      }
    } catch {
      /* gone */
    }
  }
  const deadline = Date.now() + 5000;
  while (cgroupRoots().some((r) => cgroupPids(r).length > 0) && Date.now() < deadline) execFileSync('sleep', ['0.1']);

  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && (m === workDir || m.startsWith(workDir + '/')))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) tryRun('umount', ['-l', m]);

  for (const l of LINKS) tryRun('ip', ['link', 'del', l]);
  cleanIptables('iptables');
  cleanIptables('ip6tables');
  for (const root of cgroupRoots()) rmdirTree(root);
  // libcni caches results by network name: flannel's `cbr0` and containerd's `cni-loopback`.
  try {
    for (const f of fs.readdirSync('/var/lib/cni/results')) {
      if (f.startsWith('cbr0-') || f.startsWith('cni-loopback-')) fs.rmSync(`/var/lib/cni/results/${f}`, { force: true });
    }
  } catch {
    /* none */
  }
  // The kubelet links /var/log/containers/* to the pods' logs under its podLogsDir (our work dir).
  try {
    for (const f of fs.readdirSync('/var/log/containers')) {
      const link = path.join('/var/log/containers', f);
      if (fs.readlinkSync(link).startsWith(workDir)) fs.rmSync(link, { force: true });
    }
  } catch {
    /* none */
  }
  if (owner) {
    fs.writeFileSync('/proc/sys/net/ipv4/ip_forward', owner.ipForward);
    if (owner.createdLibModules) tryRun('rmdir', ['/lib/modules']);
  }
  fs.rmSync(workDir, { recursive: true, force: true });
}

/** Cleans up after node runs whose owner process died (jest SIGKILLed, machine reused). */
export function sweepStaleNodes(tmpRoot = os.tmpdir(), log: (l: string) => void = () => {}): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(tmpRoot).filter((e) => e.startsWith(WORK_PREFIX));
  } catch {
    return;
  }
  for (const e of entries) {
    const dir = path.join(tmpRoot, e);
    let owner: Owner | null = null;
    try {
      owner = JSON.parse(fs.readFileSync(path.join(dir, 'owner.json'), 'utf8')) as Owner;
    } catch {
      /* a run that died before writing it */
    }
    if (owner && pidAlive(owner.ownerPid)) continue;
    cleanHost(dir, owner);
    log(`[node] cleaned up stale run ${dir}`);
  }
}

function takeLock(): void {
  for (;;) {
    try {
      fs.writeFileSync(LOCK_FILE, String(process.pid), { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number(fs.readFileSync(LOCK_FILE, 'utf8'));
    if (holder && pidAlive(holder)) throw new Error(`node: another node run (pid ${holder}) holds ${LOCK_FILE}; one node per machine`);
    fs.rmSync(LOCK_FILE, { force: true });
  }
}

function containerdConfig(dir: string, cniBin: string, cniConf: string): string {
  return `version = 2
root = "${dir}/root"
state = "${dir}/state"
[grpc]
  address = "${dir}/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "netdoctor.local/pause:3.10"
  # No CAP_SYS_RESOURCE on this machine kind: nothing may lower oom_score_adj, and the kubelet
  # asks -998 for the sandbox (runc then fails with "can't get final child's PID from pipe: EOF").
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${cniBin}"
    conf_dir = "${cniConf}"
`;
}

function kubeletConfig(p: { podLogsDir: string; volumePluginDir: string; sock: string; nodeIp: string; clientCa: string; resolvConf: string }): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# cgroup v1 only on this machine kind: Kubernetes 1.35+ refuses it unless told.
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://${p.sock}
address: ${p.nodeIp}
port: ${KUBELET_PORT}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${p.clientCa}}
authorization:
  mode: Webhook
clusterDNS: [10.96.0.10]
clusterDomain: cluster.local
# The machine's resolv.conf, copied: what dnsPolicy Default pods (CoreDNS) get, editable by the
# fault tests without touching the machine (test/faults/coredns-loop.ts).
resolvConf: ${p.resolvConf}
rotateCertificates: false
failSwapOn: false
enforceNodeAllocatable: []
evictionHard: {}
imageGCHighThresholdPercent: 100
podLogsDir: ${p.podLogsDir}
volumePluginDir: ${p.volumePluginDir}
`;
}

/** Fills ${NAME} placeholders; an unknown name is an error (a typo must not reach the cluster). */
export function fillTemplate(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Z0-9_]+)\}/g, (_, k: string) => {
    const v = vars[k];
    if (v === undefined) throw new Error(`node: no value for \${${k}}`);
    return v;
  });
}

const PLURAL: Record<string, string> = {
  Namespace: 'namespaces', ServiceAccount: 'serviceaccounts', ConfigMap: 'configmaps', Service: 'services', Pod: 'pods',
  DaemonSet: 'daemonsets', Deployment: 'deployments', ClusterRole: 'clusterroles', ClusterRoleBinding: 'clusterrolebindings',
  Role: 'roles', RoleBinding: 'rolebindings', Secret: 'secrets', StatefulSet: 'statefulsets', NetworkPolicy: 'networkpolicies',
  PodDisruptionBudget: 'poddisruptionbudgets',
};

function request(cluster: ControlPlane, method: string, urlPath: string, body: string | undefined, contentType: string): Promise<{ status: number; body: string }> {
  const tls = { ca: fs.readFileSync(cluster.pki.caCert), cert: fs.readFileSync(cluster.pki.adminCert), key: fs.readFileSync(cluster.pki.adminKey) };
  return new Promise((resolve, reject) => {
    const req = https.request(`${cluster.server}${urlPath}`, { method, ...tls, headers: { 'Content-Type': contentType }, timeout: 10_000 }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (b += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

/** The documents of a manifest file. */
export function manifestObjects(text: string): ManifestObject[] {
  return parseAllDocuments(text).map((d) => d.toJS() as ManifestObject | null).filter((o): o is ManifestObject => !!o);
}

/** The REST collection an object belongs to (POST there), and its own path. */
export function resourcePaths(o: ManifestObject): { collection: string; object: string } {
  const plural = PLURAL[o.kind];
  if (!plural) throw new Error(`node: no resource path for kind ${o.kind}`);
  const base = o.apiVersion.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
  const collection = `${base}${o.metadata.namespace ? `/namespaces/${o.metadata.namespace}` : ''}/${plural}`;
  return { collection, object: `${collection}/${o.metadata.name}` };
}

/** Server-side apply of every document in `text` (field manager netdoctor-test-node). */
export async function applyManifests(cluster: ControlPlane, text: string): Promise<void> {
  for (const o of manifestObjects(text)) {
    const p = `${resourcePaths(o).object}?fieldManager=netdoctor-test-node&force=true`;
    const r = await request(cluster, 'PATCH', p, JSON.stringify(o), 'application/apply-patch+yaml');
    if (r.status >= 300) throw new Error(`node: apply ${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
  }
}

export async function startNode(opts: NodeOptions): Promise<TestNode> {
  const t0 = Date.now();
  const log = opts.log ?? ((l: string) => console.error(l));
  const tmpRoot = opts.tmpRoot ?? os.tmpdir();
  const deadline = t0 + (opts.timeoutMs ?? 300_000);
  const { cluster, nodeIp } = opts;
  requireTools();
  takeLock();
  sweepStaleNodes(tmpRoot, log);

  const workDir = fs.mkdtempSync(path.join(tmpRoot, WORK_PREFIX));
  const d = (...p: string[]) => path.join(workDir, ...p);
  const owner: Owner = {
    ownerPid: process.pid,
    pids: [],
    ipForward: fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(),
    createdLibModules: !fs.existsSync('/lib/modules'),
  };
  const saveOwner = () => fs.writeFileSync(d('owner.json'), JSON.stringify(owner));
  saveOwner();
  const procs: Proc[] = [];
  const onExit = () => {
    for (const p of procs) if (!p.exited) killGroup(p.child.pid, 'SIGKILL');
  };
  process.on('exit', onExit);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // The kubelet first, so that it restarts nothing; then containerd; cleanHost kills the rest.
    await stopInReverse(procs);
    if (process.env.NETDOCTOR_KEEP_CLUSTER_DIR === '1') {
      const keep = fs.mkdtempSync(path.join(tmpRoot, 'netdoctor-nodelogs-'));
      for (const p of procs) fs.copyFileSync(p.logFile, path.join(keep, path.basename(p.logFile)));
      fs.cpSync(d('pod-logs'), path.join(keep, 'pods'), { recursive: true, dereference: true });
      log(`[node] kept logs in ${keep}`);
    }
    cleanHost(workDir, owner);
    process.removeListener('exit', onExit);
    fs.rmSync(LOCK_FILE, { force: true });
  };

  const start = (name: string, file: string, args: string[]) => {
    const p = spawnLogged(workDir, name, file, args);
    procs.push(p);
    if (p.child.pid) owner.pids.push(p.child.pid);
    saveOwner();
    return p;
  };
  const waitFor = async (what: string, probe: () => Promise<boolean> | boolean): Promise<void> => {
    for (;;) {
      const dead = procs.find((p) => p.exited);
      if (dead) throw new Error(`node: ${dead.name} exited while waiting for ${what}:\n${tail(dead.logFile)}`);
      try {
        if (await probe()) return;
      } catch {
        /* not yet */
      }
      if (Date.now() > deadline) {
        throw new Error(`node: timeout waiting for ${what}\n${procs.map((p) => `--- ${p.name}\n${tail(p.logFile, 15)}`).join('\n')}`);
      }
      await sleep(500);
    }
  };

  try {
    fs.writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
    fs.writeFileSync('/proc/sys/net/bridge/bridge-nf-call-iptables', '1');
    run('ip', ['link', 'add', SINK_LINK, 'type', 'bridge']);
    run('ip', ['link', 'set', SINK_LINK, 'up']);
    for (const cidr of [SERVICE_CLUSTER_IP_RANGE, CLUSTER_CIDR]) run('ip', ['route', 'add', cidr, 'dev', SINK_LINK]);
    const cniBin = d('cni', 'bin');
    const cniConf = d('cni', 'net.d');
    for (const dir of [cniBin, cniConf, d('cni', 'data'), d('flannel'), d('containerd'), d('kubelet'), d('pod-logs')]) {
      fs.mkdirSync(dir, { recursive: true });
    }
    // Debian's plugins for flannel's delegate (bridge + host-local), the loopback and the portmap chain.
    for (const p of ['bridge', 'host-local', 'loopback', 'portmap']) fs.copyFileSync(`/usr/lib/cni/${p}`, path.join(cniBin, p));
    for (const p of ['bridge', 'host-local', 'loopback', 'portmap']) fs.chmodSync(path.join(cniBin, p), 0o755);

    // --- containerd
    const sock = containerdSocket(workDir);
    fs.writeFileSync(d('containerd', 'config.toml'), containerdConfig(d('containerd'), cniBin, cniConf));
    start('containerd', 'containerd', ['--config', d('containerd', 'config.toml')]);
    const ctr = (...args: string[]) => run('ctr', ['--address', sock, '-n', 'k8s.io', ...args]);
    await waitFor('containerd socket', () => fs.existsSync(sock) && ctr('version').includes('Server'));
    const tContainerd = Date.now();
    const imagesDir = path.join(opts.binDir, 'images');
    for (const f of fs.readdirSync(imagesDir)) importImage(workDir, path.join(imagesDir, f));
    const tImages = Date.now();

    // --- kubelet, as system:node:controlplane (Node authorizer)
    signCert(cluster.pki.dir, 'kubelet-client', `/O=system:nodes/CN=system:node:${NODE_NAME}`, 'extendedKeyUsage=clientAuth');
    const kubeconfig = d('kubelet', 'kubeconfig');
    writeKubeconfig(kubeconfig, `https://${nodeIp}:${cluster.ports.apiserver}`, cluster.pki.caCert,
      path.join(cluster.pki.dir, 'kubelet-client.crt'), path.join(cluster.pki.dir, 'kubelet-client.key'), `system:node:${NODE_NAME}`);
    fs.copyFileSync('/etc/resolv.conf', d('kubelet', 'resolv.conf'));
    fs.writeFileSync(d('kubelet', 'config.yaml'), kubeletConfig({
      podLogsDir: d('pod-logs'), volumePluginDir: d('kubelet', 'volume-plugins'), sock, nodeIp, clientCa: cluster.pki.caCert, resolvConf: d('kubelet', 'resolv.conf'),
    }));
    start('kubelet', path.join(opts.binDir, 'kubelet'), [
      `--config=${d('kubelet', 'config.yaml')}`,
      `--kubeconfig=${kubeconfig}`,
      `--root-dir=${d('kubelet', 'root')}`,
      `--cert-dir=${d('kubelet', 'pki')}`,
      `--hostname-override=${NODE_NAME}`,
      `--node-ip=${nodeIp}`,
      '--v=1',
    ]);
    await waitFor(`Node ${NODE_NAME} with a podCIDR`, async () => {
      const r = await request(cluster, 'GET', `/api/v1/nodes/${NODE_NAME}`, undefined, 'application/json');
      return r.status === 200 && !!(JSON.parse(r.body) as { spec?: { podCIDR?: string } }).spec?.podCIDR;
    });
    const tKubelet = Date.now();

    // --- add-ons and the app
    const vars = {
      APISERVER_HOST: nodeIp,
      APISERVER_PORT: String(cluster.ports.apiserver),
      CLUSTER_CIDR,
      K8S_VERSION: opts.versions.kubernetes,
      FLANNEL_VERSION: opts.versions.flannel,
      CNI_PLUGINS_VERSION: opts.versions.cniPlugins,
      COREDNS_VERSION: opts.versions.coredns,
      FLANNEL_BACKEND: 'vxlan',
      CNI_BIN_DIR: cniBin,
      CNI_CONF_DIR: cniConf,
      CNI_DATA_DIR: d('cni', 'data'),
      FLANNEL_RUN_DIR: d('flannel'),
    };
    // Kept in the work dir as applied: the fault tests (test/faults) restore the healthy state from them.
    fs.mkdirSync(d('manifests'));
    fs.writeFileSync(d('manifests', 'addons.yaml'), fillTemplate(fs.readFileSync(path.join(__dirname, 'node', 'addons.yaml'), 'utf8'), vars));
    fs.copyFileSync(path.join(__dirname, 'node', 'triton.yaml'), d('manifests', 'triton.yaml'));
    for (const f of MANIFESTS) await applyManifests(cluster, fs.readFileSync(d('manifests', f), 'utf8'));

    // --- the readiness gate: host → NodePort (kube-proxy) → webapp → DNS (CoreDNS) → mysql
    const appUrl = `http://127.0.0.1:${NODE_PORT}/`;
    await waitFor(`${appUrl} answering "Successfully connected"`, async () =>
      (await httpGet(appUrl)).body.includes('Successfully connected to the MySQL database'));
    const tEnd = Date.now();
    const startMs = tEnd - t0;
    log(`[node] ${NODE_NAME} up in ${(startMs / 1000).toFixed(1)} s (containerd ${tContainerd - t0} ms, images ${tImages - tContainerd} ms, ` +
      `kubelet registered ${tKubelet - tImages} ms, add-ons + app answering ${tEnd - tKubelet} ms) dir=${workDir}`);
    return { workDir, nodeName: NODE_NAME, appUrl, startMs, stop };
  } catch (e) {
    const keep = process.env.NETDOCTOR_KEEP_CLUSTER_DIR;
    process.env.NETDOCTOR_KEEP_CLUSTER_DIR = '1';
    await stop().catch(() => {});
    if (keep === undefined) delete process.env.NETDOCTOR_KEEP_CLUSTER_DIR;
    else process.env.NETDOCTOR_KEEP_CLUSTER_DIR = keep;
    throw e;
  }
}

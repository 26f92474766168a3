// What the kube-proxy faults share: once kube-proxy is down, the iptables rules it wrote stay, so
// NodePort 30081 keeps answering until the endpoints move; the next webapp rollout breaks it.
import { eventually } from '../support/eventually';
import { type FaultCluster, APP_OK, appPage, crashLooping, excerpt, podLines, podReady, pods, rolloutRestart, symptom } from './fault';

/**
 * The DaemonSet's rollout until its new pod has crashed: the old pod's exit, the new pod's start and
 * first failure (seconds on an idle node; bounded for CI, where the integration suite shares 2 cores).
 */
export const KUBE_PROXY_CRASH_BOUND_MS = 120_000;

/** kube-proxy's pods (terminating ones too: an old pod still running keeps the rules up to date). */
const kubeProxyPods = (c: FaultCluster) => pods(c, 'kube-system', 'k8s-app=kube-proxy', { terminating: true });

function kubeProxyCrashLooping(kp: Awaited<ReturnType<typeof kubeProxyPods>>): [boolean, string] {
  return [kp.length > 0 && kp.every(crashLooping), `kube-proxy not crash-looping: ${podLines(kp)}`];
}

/** Waits until every kube-proxy pod crash-loops, then rolls webapp out (as any deploy would). */
export async function redeployWebappUnderDeadKubeProxy(c: FaultCluster): Promise<void> {
  await eventually(async () => symptom([kubeProxyCrashLooping(await kubeProxyPods(c))]), KUBE_PROXY_CRASH_BOUND_MS, 500);
  await rolloutRestart(c, 'triton', 'webapp-mysql');
}

/** kube-proxy crash-looping, webapp down to its one new pod, Ready, and NodePort 30081 no longer answering. */
export async function kubeProxyDownAndNodePortDead(c: FaultCluster): Promise<void> {
  const kp = await kubeProxyPods(c);
  // The old pod, until its container is gone, keeps the address the stale rules send NodePort traffic to.
  const web = await pods(c, 'triton', 'name=webapp-mysql', { terminating: true });
  const page = await appPage(c);
  symptom([
    kubeProxyCrashLooping(kp),
    [web.length === 1 && podReady(web[0]!) && !web[0]!.metadata.deletionTimestamp, `webapp not rolled out to one Ready pod: ${podLines(web)}`],
    [!page.includes(APP_OK), `NodePort 30081 still answers: ${excerpt(page)}`],
  ]);
}

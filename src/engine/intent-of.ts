import { clusterDnsService } from '../checks/support/dns';
import { hostIn, serviceNameOf, visibleEnv } from '../checks/support/hostnames';
import type { ConnectionIntent, Intent, PortIntent, ServiceIntent } from '../checks/support/intent';
import { owningWorkload } from '../checks/support/pods';
import { selectedPods } from '../checks/support/services';
import type { ClusterView } from '../domain/cluster-view';
import type { Service } from '../domain/kube-types';

const kindName = (ref: { kind: string; name: string }): string => `${ref.kind.toLowerCase()}/${ref.name}`;

function serviceIntent(view: ClusterView, svc: Service): ServiceIntent {
  const ports: PortIntent[] = (svc.spec?.ports ?? []).map((p) => ({
    ...(p.name ? { name: p.name } : {}),
    port: p.port,
    targetPort: p.targetPort ?? p.port,
    ...(p.nodePort ? { nodePort: p.nodePort } : {}),
    protocol: p.protocol ?? 'TCP',
  }));
  // The target only when every selected pod belongs to one workload: anything else is not an intent to write down.
  const owners = [...new Set(selectedPods(view, svc).map((p) => kindName(owningWorkload(view, p))))];
  return { name: svc.metadata?.name ?? '', type: svc.spec?.type ?? 'ClusterIP', ports, ...(owners.length === 1 ? { targets: owners[0]! } : {}) };
}

/** Connections the workloads' env names (`DB_Host=mysql`), at the port given or the Service's only port; and DNS for every pod. */
function connections(view: ClusterView, namespace: string): ConnectionIntent[] {
  const namespaces = new Set(view.list('Namespace').map((n) => n.metadata?.name ?? ''));
  const found = new Map<string, ConnectionIntent>();
  for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet'] as const) {
    for (const w of view.list(kind, namespace)) {
      for (const e of visibleEnv(view, namespace, w.spec?.template.spec)) {
        const host = hostIn(e.variable, e.value);
        const target = host ? serviceNameOf(host.host, namespace, namespaces) : undefined;
        const svc = target ? view.get('Service', target.namespace, target.name) : undefined;
        const port = host?.port ?? (svc?.spec?.ports?.length === 1 ? svc.spec.ports[0]!.port : undefined);
        if (!target || !svc || port === undefined) continue;
        const to = `${target.name}${target.namespace === namespace ? '' : `.${target.namespace}`}:${port}`;
        const from = `${kind.toLowerCase()}/${w.metadata?.name ?? ''}`;
        found.set(`${from} ${to}`, { from, to });
      }
    }
  }
  const dns = clusterDnsService(view);
  if (dns) found.set('dns', { from: 'any', to: `${dns.metadata?.name ?? ''}.${dns.metadata?.namespace ?? ''}:53` });
  return [...found.values()];
}

/** The intent a healthy namespace shows (what `netdoctor intent init` writes): its Services, connections and workloads as they are. */
export function intentOf(view: ClusterView, namespace: string): Intent {
  const services = view.list('Service', namespace).map((s) => serviceIntent(view, s));
  const workloads = (['Deployment', 'StatefulSet', 'DaemonSet'] as const).flatMap((kind) => view.list(kind, namespace).map((w) => `${kind.toLowerCase()}/${w.metadata?.name ?? ''}`));
  const targetedPods = services.map((s) => s.targets).filter((t): t is string => t?.startsWith('pod/') === true);
  return { services, connections: connections(view, namespace), required: [...new Set([...workloads, ...targetedPods])].sort() };
}

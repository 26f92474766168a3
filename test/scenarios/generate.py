"""Derives broken-cluster dumps from the shared healthy scenario (run from this folder: python3 generate.py)."""
import yaml, os, copy, shutil
here=os.path.dirname(os.path.abspath(__file__))
src=os.path.join(here,'..','..','..','shared','scenarios','healthy')
docs=[d for d in yaml.safe_load_all(open(f'{src}/objects.yaml')) if d]
def write(name, docs, expect, logs={}):
    d=os.path.join(here,name); shutil.rmtree(d, ignore_errors=True); os.makedirs(d)
    yaml.safe_dump_all(docs, open(f'{d}/objects.yaml','w'))
    yaml.safe_dump(expect, open(f'{d}/expect.yaml','w'))
    for path, text in logs.items():
        p=f'{d}/logs/{path}'; os.makedirs(os.path.dirname(p), exist_ok=True); open(p,'w').write(text)
def find(docs, kind, name): return next(x for x in docs if x['kind']==kind and x['metadata']['name']==name)

# (a) kube-dns selector mismatch
a=copy.deepcopy(docs)
find(a,'Service','kube-dns')['spec']['selector']={'k8s-app':'coredns'}
es=next(x for x in a if x['kind']=='EndpointSlice' and x['metadata']['name'].startswith('kube-dns'))
es['endpoints']=[]
ep=find(a,'Endpoints','kube-dns'); ep.pop('subsets',None)
write('dns-selector', a, {'namespace':'triton','rootCause':{'subject':{'kind':'Service','namespace':'kube-system','name':'kube-dns'},'mentions':['selector'],'fixContains':'/spec/selector'}})

# (b) coredns loop
b=copy.deepcopy(docs)
logs={}
for p in [x for x in b if x['kind']=='Pod' and x['metadata']['name'].startswith('coredns-')]:
    cs=p['status']['containerStatuses'][0]
    cs.update({'ready':False,'restartCount':7,'started':False,'state':{'waiting':{'reason':'CrashLoopBackOff','message':'back-off 5m0s restarting failed container'}},'lastState':{'terminated':{'exitCode':1,'reason':'Error','containerID':'containerd://'+'0'*64,'startedAt':'2026-03-01T06:38:00Z','finishedAt':'2026-03-01T06:38:01Z'}}})
    for c in p['status']['conditions']:
        if c['type'] in ('Ready','ContainersReady'): c['status']='False'
    logs[f"kube-system/{p['metadata']['name']}/coredns.previous.log"]='.:53\n[INFO] plugin/reload: Running configuration SHA512 = 591cf\nCoreDNS-1.9.3\nlinux/amd64, go1.18.2, 45b0a11\n[FATAL] plugin/loop: Loop (127.0.0.1:34614 -> :53) detected for zone ".", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO 6074102630077018525.5798689655824409358."\n'
es=next(x for x in b if x['kind']=='EndpointSlice' and x['metadata']['name'].startswith('kube-dns'))
for e in es['endpoints']: e['conditions']['ready']=False
write('dns-loop', b, {'namespace':'triton','rootCause':{'subject':{'kind':'Deployment','namespace':'kube-system','name':'coredns'},'mentions':['loop','resolv.conf']}}, logs)

# (c) weave crashlooping
c=copy.deepcopy(docs)
ds=find(c,'DaemonSet','weave-net'); ds['status'].update({'numberReady':0,'numberAvailable':0,'numberUnavailable':1})
wp=find(c,'Pod','weave-net-66cxw')
wp['status']['containerStatuses'][0].update({'ready':False,'restartCount':9,'state':{'waiting':{'reason':'CrashLoopBackOff'}},'lastState':{'terminated':{'exitCode':1,'reason':'Error','containerID':'containerd://'+'0'*64,'startedAt':'2026-03-01T06:38:00Z','finishedAt':'2026-03-01T06:38:01Z'}}})
for cond in wp['status']['conditions']:
    if cond['type'] in ('Ready','ContainersReady'): cond['status']='False'
logs={'kube-system/weave-net-66cxw/weave.previous.log':'INFO: 2026/03/01 06:30:00.000000 launching\nFATA: 2026/03/01 06:30:31.000000 [kube-peers] Could not get peers: Get "https://10.96.0.1:443/api/v1/nodes": dial tcp 10.96.0.1:443: i/o timeout\nFailed to get peers\n'}
# a new app pod stuck
newpod=copy.deepcopy(find(c,'Pod','mysql')); 
newpod['status']={'phase':'Pending','conditions':[{'type':'PodScheduled','status':'True'},{'type':'Ready','status':'False'}],'containerStatuses':[{'name':'mysql','image':'mysql:5.6','imageID':'','ready':False,'restartCount':0,'started':False,'state':{'waiting':{'reason':'ContainerCreating'}}}],'hostIP':'172.17.0.12'}
newpod['metadata']['name']='mysql-2'; newpod['metadata']['uid']='x1'
c.append(newpod)
c.append({'apiVersion':'v1','kind':'Event','metadata':{'name':'mysql-2.1','namespace':'triton'},'involvedObject':{'kind':'Pod','name':'mysql-2','namespace':'triton'},'reason':'FailedCreatePodSandBox','type':'Warning','count':12,'lastTimestamp':'2026-03-01T06:39:00Z','message':'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "abc": plugin type="weave-net" name="weave" failed (add): unable to allocate IP address: Post "http://127.0.0.1:6784/ip/abc": dial tcp 127.0.0.1:6784: connect: connection refused'})
write('weave-crashing', c, {'namespace':'triton','rootCause':{'subject':{'kind':'DaemonSet','namespace':'kube-system','name':'weave-net'},'mentions':['weave']}}, logs)

# (d) no CNI at all
d=[x for x in copy.deepcopy(docs) if not (x['kind']=='DaemonSet' and x['metadata']['name']=='weave-net') and not (x['kind']=='Pod' and x['metadata']['name'].startswith('weave-net'))]
n=find(d,'Node','controlplane')
for cond in n['status']['conditions']:
    if cond['type']=='Ready': cond.update({'status':'False','reason':'KubeletNotReady','message':'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized'})
n['spec']['taints']=[{'key':'node.kubernetes.io/not-ready','effect':'NoSchedule'}]
for p in [x for x in d if x['kind']=='Pod' and (x['metadata']['name'].startswith('coredns-') or x['metadata']['namespace']=='triton')]:
    p['spec'].pop('nodeName',None)
    p['status']={'phase':'Pending','conditions':[{'type':'PodScheduled','status':'False','reason':'Unschedulable','message':'0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.'}]}
    d.append({'apiVersion':'v1','kind':'Event','metadata':{'name':p['metadata']['name']+'.fs','namespace':p['metadata']['namespace']},'involvedObject':{'kind':'Pod','name':p['metadata']['name'],'namespace':p['metadata']['namespace']},'reason':'FailedScheduling','type':'Warning','count':3,'lastTimestamp':'2026-03-01T06:39:00Z','message':'0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.'})
for x in d:
    if x['kind']=='EndpointSlice': x['endpoints']=[]
    if x['kind']=='Endpoints': x.pop('subsets',None)
write('no-cni', d, {'namespace':'triton','rootCause':{'subject':{'kind':'Node','name':'controlplane'},'mentions':['cni']}})

def empty_endpoints(docs, service):
    for x in docs:
        if x['kind']=='EndpointSlice' and x['metadata'].get('labels',{}).get('kubernetes.io/service-name')==service: x['endpoints']=[]
        if x['kind']=='Endpoints' and x['metadata']['name']==service: x.pop('subsets',None)

# (e) lab gamma: the mysql Service selects a label no pod has
e=copy.deepcopy(docs)
find(e,'Service','mysql')['spec']['selector']={'name':'sql00001'}
empty_endpoints(e,'mysql')
write('svc-selector', e, {'namespace':'triton','rootCause':{'subject':{'kind':'Service','namespace':'triton','name':'mysql'},'mentions':['selector'],'fixContains':'/spec/selector'}})

# (f) lab beta: the mysql Service targets a port the pod does not serve
f=copy.deepcopy(docs)
find(f,'Service','mysql')['spec']['ports'][0]['targetPort']=8080
write('svc-target-port', f, {'namespace':'triton','rootCause':{'subject':{'kind':'Service','namespace':'triton','name':'mysql'},'mentions':['targetPort'],'fixContains':'3306'}})

# (g) a deny-all NetworkPolicy on the DB tier cuts the web tier off
g=copy.deepcopy(docs)
g.append({'apiVersion':'networking.k8s.io/v1','kind':'NetworkPolicy','metadata':{'name':'db-deny-all','namespace':'triton'},'spec':{'podSelector':{'matchLabels':{'name':'mysql'}},'policyTypes':['Ingress']}})
write('netpol-deny', g, {'namespace':'triton','rootCause':{'mentions':['db-deny-all'],'fixContains':'netdoctor-allow-'}})

# (h) lab alpha: the web tier's DB_Host names a Service that does not exist ("mysql-service" does)
h=copy.deepcopy(docs)
svc=find(h,'Service','mysql'); svc['metadata']['name']='mysql-service'
for x in h:
    if x['kind'] in ('EndpointSlice','Endpoints') and (x['metadata']['name']=='mysql' or x['metadata'].get('labels',{}).get('kubernetes.io/service-name')=='mysql'):
        x['metadata'].setdefault('labels',{})
        if x['kind']=='Endpoints': x['metadata']['name']='mysql-service'
        else: x['metadata']['labels']['kubernetes.io/service-name']='mysql-service'
write('env-missing-service', h, {'namespace':'triton','rootCause':{'mentions':['DB_Host','mysql-service'],'fixContains':'mysql-service'}})

# (i) lab 1 with an install manifest: the weave-net DaemonSet (and its pods) deleted, the triton pods
# stuck in ContainerCreating, and the operators' weave manifest in a kube-system ConfigMap
# labelled netdoctor.io/cni (cni-not-running proposes creating its objects).
WEAVE_MANIFEST='''apiVersion: v1
kind: ServiceAccount
metadata:
  name: weave-net
  namespace: kube-system
  labels: {name: weave-net}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: weave-net
  labels: {name: weave-net}
rules:
  - apiGroups: ['']
    resources: [pods, namespaces, nodes]
    verbs: [get, list, watch]
  - apiGroups: [networking.k8s.io]
    resources: [networkpolicies]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: weave-net
  labels: {name: weave-net}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: weave-net}
subjects:
  - {kind: ServiceAccount, name: weave-net, namespace: kube-system}
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: weave-net
  namespace: kube-system
  labels: {name: weave-net}
spec:
  selector:
    matchLabels: {name: weave-net}
  updateStrategy: {type: RollingUpdate}
  template:
    metadata:
      labels: {name: weave-net}
    spec:
      serviceAccountName: weave-net
      hostNetwork: true
      tolerations: [{operator: Exists}]
      containers:
        - name: weave
          image: weaveworks/weave-kube:2.8.1
          command: [/home/weave/launch.sh]
          env:
            - {name: IPALLOC_RANGE, value: 10.32.0.0/12}
          securityContext: {privileged: true}
          volumeMounts:
            - {name: cni-conf, mountPath: /host/etc}
      volumes:
        - name: cni-conf
          hostPath: {path: /etc}
'''
i=[x for x in copy.deepcopy(docs) if not (x['kind']=='DaemonSet' and x['metadata']['name']=='weave-net') and not (x['kind']=='Pod' and x['metadata']['name'].startswith('weave-net'))]
SANDBOX='Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "{id}": plugin type="weave-net" name="weave" failed (add): unable to allocate IP address: Post "http://127.0.0.1:6784/ip/{id}": dial tcp 127.0.0.1:6784: connect: connection refused'
for p in [x for x in i if x['kind']=='Pod' and x['metadata']['namespace']=='triton']:
    c=p['spec']['containers'][0]
    p['status']={'phase':'Pending','hostIP':'172.17.0.12','startTime':'2026-03-01T06:29:00Z',
        'conditions':[{'type':'PodScheduled','status':'True','lastTransitionTime':'2026-03-01T06:29:00Z'},{'type':'Initialized','status':'True','lastTransitionTime':'2026-03-01T06:29:00Z'},
                      {'type':'Ready','status':'False','reason':'ContainersNotReady','lastTransitionTime':'2026-03-01T06:29:00Z'},{'type':'ContainersReady','status':'False','reason':'ContainersNotReady','lastTransitionTime':'2026-03-01T06:29:00Z'}],
        'containerStatuses':[{'name':c['name'],'image':c['image'],'imageID':'','ready':False,'restartCount':0,'started':False,'state':{'waiting':{'reason':'ContainerCreating'}}}]}
    sid=(p['metadata']['name'].encode().hex()*8)[:64]
    i.append({'apiVersion':'v1','kind':'Event','metadata':{'name':p['metadata']['name']+'.sandbox','namespace':'triton'},'involvedObject':{'apiVersion':'v1','kind':'Pod','name':p['metadata']['name'],'namespace':'triton'},'reason':'FailedCreatePodSandBox','type':'Warning','source':{'component':'kubelet','host':'controlplane'},'count':14,'firstTimestamp':'2026-03-01T06:29:00Z','lastTimestamp':'2026-03-01T06:39:00Z','message':SANDBOX.format(id=sid)})
for svc in ('mysql','web-service'): empty_endpoints(i, svc)
i.append({'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'netdoctor-cni-manifest','namespace':'kube-system','labels':{'netdoctor.io/cni':'weave-net'}},'data':{'manifest.yaml':WEAVE_MANIFEST}})
write('cni-install-manifest', i, {'description':'Seed lab 1 with the operators\' weave manifest in ConfigMap kube-system/netdoctor-cni-manifest (label netdoctor.io/cni=weave-net): the missing weave-net DaemonSet gets an install plan.','namespace':'triton','rootCause':{'subject':{'kind':'DaemonSet','namespace':'kube-system','name':'weave-net'},'mentions':['weave','netdoctor-cni-manifest'],'fixContains':'DaemonSet'}})

#!/usr/bin/env bash
# Builds (or reuses) the binaries of the disposable test control plane:
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler
# from the wrapper Go modules in test/cluster/go/{etcd,k8s}.
#
# Output: a cache dir keyed by versions, by default
#   ${NETDOCTOR_CACHE:-$HOME/.cache/netdoctor}/k8s-<ver>-etcd-<ver>-<go ver>/bin
# Its path is printed as the LAST line on stdout (all progress goes to stderr).
# Idempotent: a complete bin dir (marker file .complete) is reused as is; a build
# goes to a temp dir first and is renamed into place, so an interrupted build is
# never reused. Concurrent callers serialise on a flock.
#
# Env:
#   NETDOCTOR_CACHE        cache root (default $HOME/.cache/netdoctor)
#   NETDOCTOR_BUILD_JOBS   go build -p (default 2)
#   NETDOCTOR_REBUILD=1    ignore an existing bin dir
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
K8S_MOD="$HERE/go/k8s"
ETCD_MOD="$HERE/go/etcd"

# shellcheck source=../../scripts/lib/go-tool-cache.sh
. "$HERE/../../scripts/lib/go-tool-cache.sh"
K8S_VERSION="$(go_mod_version "$K8S_MOD/go.mod" k8s.io/kubernetes)"
ETCD_VERSION="$(go_mod_version "$ETCD_MOD/go.mod" go.etcd.io/etcd/server/v3)"
[[ -n "$K8S_VERSION" && -n "$ETCD_VERSION" ]] || { echo "build.sh: cannot read versions from go.mod" >&2; exit 1; }
GO_VERSION="$(GOTOOLCHAIN=local go env GOVERSION)"

tool_cache_open build.sh "k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}-${GO_VERSION}" etcd kube-apiserver kube-controller-manager kube-scheduler

export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off
JOBS="${NETDOCTOR_BUILD_JOBS:-2}"
COMMON=(-p "$JOBS" -trimpath -mod=readonly)
START=$SECONDS

echo "build.sh: building etcd $ETCD_VERSION ($GO_VERSION, -p $JOBS) ..." >&2
(cd "$ETCD_MOD" && go build "${COMMON[@]}" \
  -ldflags "-s -w" \
  -o "$TMP/etcd" go.etcd.io/etcd/server/v3) >&2

echo "build.sh: building Kubernetes $K8S_VERSION ..." >&2
(cd "$K8S_MOD" && go build "${COMMON[@]}" -ldflags "$(k8s_version_ldflags "$K8S_VERSION")" -o "$TMP/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler) >&2

# Capture whole outputs: piping into head under pipefail can kill the writer with SIGPIPE.
"$TMP/kube-apiserver" --version >&2
etcd_version="$("$TMP/etcd" --version)"
echo "${etcd_version%%$'\n'*}" >&2
tool_cache_close "built in $((SECONDS - START))s"

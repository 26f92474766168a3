#!/usr/bin/env bash
# Builds (or reuses) the real renderers used to validate deploy/:
#   helm       helm.sh/helm/v3/cmd/helm                 (chart: deploy/helm/netdoctor)
#   kustomize  sigs.k8s.io/kustomize/kustomize/v5       (base:  deploy/kustomize/base)
# from the Go module proxy, with the local Go toolchain.
#
# Same cache convention as test/cluster/build.sh:
#   ${NETDOCTOR_CACHE:-$HOME/.cache/netdoctor}/helm-<ver>-kustomize-<ver>-<go ver>/bin
# The bin dir path is printed as the LAST line on stdout (progress goes to stderr).
# Idempotent: a complete bin dir (marker .complete) is reused; a build goes to a temp dir
# and is renamed into place; concurrent callers serialise on a flock.
#
# Env:
#   NETDOCTOR_CACHE            cache root (default $HOME/.cache/netdoctor)
#   NETDOCTOR_BUILD_JOBS       go build -p (default 2)
#   NETDOCTOR_REBUILD=1        ignore an existing bin dir
#   NETDOCTOR_HELM_VERSION     default below
#   NETDOCTOR_KUSTOMIZE_VERSION default below (v5.8.3 needs go >= 1.27; the machine has 1.26)
set -euo pipefail

HELM_VERSION="${NETDOCTOR_HELM_VERSION:-v3.22.0}"
KUSTOMIZE_VERSION="${NETDOCTOR_KUSTOMIZE_VERSION:-v5.8.2}"
GO_VERSION="$(GOTOOLCHAIN=local go env GOVERSION)"

# shellcheck source=../../scripts/lib/go-tool-cache.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/go-tool-cache.sh"
tool_cache_open build-helm.sh "helm-${HELM_VERSION}-kustomize-${KUSTOMIZE_VERSION}-${GO_VERSION}" helm kustomize

# `go install pkg@version` builds the module at exactly that version with its own go.mod/go.sum
# (checked against the checksum database), outside any work tree.
export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOFLAGS=-buildvcs=false GOBIN="$TMP"
JOBS="${NETDOCTOR_BUILD_JOBS:-2}"
START=$SECONDS

echo "build-helm.sh: building helm $HELM_VERSION ($GO_VERSION, -p $JOBS) ..." >&2
HELM_MAJOR="${HELM_VERSION%%.*}"
HELM_MOD="helm.sh/helm/${HELM_MAJOR}"
# Like helm's Makefile: stamp the Kubernetes version of its client-go as the default
# .Capabilities.KubeVersion (unstamped builds claim v1.20 and fail kubeVersion constraints).
HELM_GOMOD="$(go mod download -json "${HELM_MOD}@${HELM_VERSION}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
CLIENT_GO="$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "$HELM_GOMOD")"   # v0.MINOR.PATCH
K8S_MINOR="$(echo "$CLIENT_GO" | cut -d. -f2)"
[[ -n "$K8S_MINOR" ]] || { echo "build-helm.sh: cannot read client-go version from $HELM_GOMOD" >&2; exit 1; }
LDF="-s -w -X ${HELM_MOD}/internal/version.version=${HELM_VERSION} -X ${HELM_MOD}/internal/version.gitTreeState=clean"
for pkg in pkg/chartutil pkg/lint/rules; do
  LDF+=" -X ${HELM_MOD}/${pkg}.k8sVersionMajor=1 -X ${HELM_MOD}/${pkg}.k8sVersionMinor=${K8S_MINOR}"
done
go install -p "$JOBS" -trimpath -ldflags "$LDF" "${HELM_MOD}/cmd/helm@${HELM_VERSION}" >&2
HELM_SECS=$((SECONDS - START))

echo "build-helm.sh: building kustomize $KUSTOMIZE_VERSION ..." >&2
go install -p "$JOBS" -trimpath \
  -ldflags "-s -w -X sigs.k8s.io/kustomize/api/provenance.version=kustomize/${KUSTOMIZE_VERSION}" \
  "sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}" >&2
KUST_SECS=$((SECONDS - START - HELM_SECS))

"$TMP/helm" version --short >&2
"$TMP/helm" show chart "$(dirname "${BASH_SOURCE[0]}")/../helm/netdoctor" >/dev/null 2>&1 || true
echo "build-helm.sh: helm default kube version 1.${K8S_MINOR} (client-go ${CLIENT_GO})" >&2
"$TMP/kustomize" version >&2
tool_cache_close "built in $((SECONDS - START))s (helm ${HELM_SECS}s, kustomize ${KUST_SECS}s)"

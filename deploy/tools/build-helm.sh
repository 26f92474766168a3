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

CACHE_ROOT="${NETDOCTOR_CACHE:-$HOME/.cache/netdoctor}"
KEY="helm-${HELM_VERSION}-kustomize-${KUSTOMIZE_VERSION}-${GO_VERSION}"
OUT="$CACHE_ROOT/$KEY/bin"
BINS=(helm kustomize)

complete() {
  [[ -f "$OUT/.complete" ]] || return 1
  local b
  for b in "${BINS[@]}"; do [[ -x "$OUT/$b" ]] || return 1; done
}

if [[ "${NETDOCTOR_REBUILD:-}" != 1 ]] && complete; then
  echo "build-helm.sh: reusing $OUT" >&2
  echo "$OUT"
  exit 0
fi

mkdir -p "$CACHE_ROOT/$KEY"
exec 9>"$CACHE_ROOT/$KEY/.lock"
flock 9
if [[ "${NETDOCTOR_REBUILD:-}" != 1 ]] && complete; then
  echo "build-helm.sh: reusing $OUT" >&2
  echo "$OUT"
  exit 0
fi

TMP="$(mktemp -d "$CACHE_ROOT/$KEY/bin.tmp.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

# `go install pkg@version` builds the module at exactly that version with its own go.mod/go.sum
# (checked against the checksum database), outside any work tree.
export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOFLAGS=-buildvcs=false GOBIN="$TMP"
JOBS="${NETDOCTOR_BUILD_JOBS:-2}"
START=$SECONDS

echo "build-helm.sh: building helm $HELM_VERSION ($GO_VERSION, -p $JOBS) ..." >&2
HELM_MAJOR="${HELM_VERSION%%.*}"
go install -p "$JOBS" -trimpath \
  -ldflags "-s -w -X helm.sh/helm/${HELM_MAJOR}/internal/version.version=${HELM_VERSION} -X helm.sh/helm/${HELM_MAJOR}/internal/version.gitTreeState=clean" \
  "helm.sh/helm/${HELM_MAJOR}/cmd/helm@${HELM_VERSION}" >&2
HELM_SECS=$((SECONDS - START))

echo "build-helm.sh: building kustomize $KUSTOMIZE_VERSION ..." >&2
go install -p "$JOBS" -trimpath \
  -ldflags "-s -w -X sigs.k8s.io/kustomize/api/provenance.version=kustomize/${KUSTOMIZE_VERSION}" \
  "sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}" >&2
KUST_SECS=$((SECONDS - START - HELM_SECS))

"$TMP/helm" version --short >&2
"$TMP/kustomize" version >&2
echo "$KEY built in $((SECONDS - START))s (helm ${HELM_SECS}s, kustomize ${KUST_SECS}s)" > "$TMP/.complete"

rm -rf "$OUT"
chmod 755 "$TMP"
mv "$TMP" "$OUT"
trap - EXIT
echo "build-helm.sh: done in $((SECONDS - START))s (helm ${HELM_SECS}s, kustomize ${KUST_SECS}s) -> $OUT" >&2
echo "$OUT"

#!/usr/bin/env bash
# Builds (or reuses) kube-score (github.com/zegl/kube-score, served by the Go module proxy), the
# third-party linter the chart tests run on every rendered variant (test/integration/deploy/kube-score.test.ts).
# Same cache convention as build-helm.sh: ${NETDOCTOR_CACHE:-$HOME/.cache/netdoctor}/kube-score-<ver>-<go ver>/bin,
# the bin dir printed as the last stdout line, progress on stderr.
#
# Env: NETDOCTOR_CACHE, NETDOCTOR_BUILD_JOBS (go build -p, default 2), NETDOCTOR_REBUILD=1,
#      NETDOCTOR_KUBE_SCORE_VERSION (default below).
set -euo pipefail

KUBE_SCORE_VERSION="${NETDOCTOR_KUBE_SCORE_VERSION:-v1.20.0}"
GO_VERSION="$(GOTOOLCHAIN=local go env GOVERSION)"

# shellcheck source=../../scripts/lib/go-tool-cache.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/go-tool-cache.sh"
tool_cache_open build-kube-score.sh "kube-score-${KUBE_SCORE_VERSION}-${GO_VERSION}" kube-score

export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOFLAGS=-buildvcs=false GOBIN="$TMP"
START=$SECONDS
echo "build-kube-score.sh: building kube-score $KUBE_SCORE_VERSION ($GO_VERSION) ..." >&2
go install -p "${NETDOCTOR_BUILD_JOBS:-2}" -trimpath \
  -ldflags "-s -w -X main.version=${KUBE_SCORE_VERSION#v}" \
  "github.com/zegl/kube-score/cmd/kube-score@${KUBE_SCORE_VERSION}" >&2
"$TMP/kube-score" version >&2
tool_cache_close "built in $((SECONDS - START))s"

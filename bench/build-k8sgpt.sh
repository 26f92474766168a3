#!/usr/bin/env bash
# Builds (or reuses) k8sgpt for the peer benchmark (bench/peer.ts) from its source repository:
# the module github.com/k8sgpt-ai/k8sgpt is not served by the Go module proxy, but every one of
# its dependencies is, so `go build` in a work tree of the source works.
#
# Source: K8SGPT_SRC, a work tree (dir with go.mod) or a git dir (bare mirror; HEAD is archived).
#   Default: /work/.mirror/k8sgpt-ai+k8sgpt/repo when present.
# Cache (same convention as deploy/tools/build-helm.sh, scripts/lib/go-tool-cache.sh):
#   ${NETDOCTOR_CACHE:-$HOME/.cache/netdoctor}/k8sgpt-<commit>-<go ver>/bin/k8sgpt
# The bin dir is printed as the LAST line on stdout (progress goes to stderr).
#
# Env:
#   K8SGPT_SRC               source (see above)
#   NETDOCTOR_CACHE          cache root (default $HOME/.cache/netdoctor)
#   NETDOCTOR_BUILD_JOBS     go build -p (default 2)
#   NETDOCTOR_REBUILD=1      ignore an existing build
set -euo pipefail

DEFAULT_SRC=/work/.mirror/k8sgpt-ai+k8sgpt/repo
SRC="${K8SGPT_SRC:-}"
if [[ -z "$SRC" ]]; then
  [[ -e "$DEFAULT_SRC" ]] || { echo "build-k8sgpt.sh: set K8SGPT_SRC to a k8sgpt work tree or git dir ($DEFAULT_SRC is absent)" >&2; exit 2; }
  SRC="$DEFAULT_SRC"
fi
[[ -d "$SRC" ]] || { echo "build-k8sgpt.sh: K8SGPT_SRC=$SRC is not a directory" >&2; exit 2; }

# A work tree has go.mod at its top; anything else must be a git dir whose HEAD we archive.
if [[ -f "$SRC/go.mod" ]]; then
  GIT_ARGS=(-C "$SRC")
else
  GIT_ARGS=(--git-dir="$SRC")
fi
COMMIT="$(git "${GIT_ARGS[@]}" rev-parse --short=7 HEAD 2>/dev/null || echo unversioned)"
if [[ -f "$SRC/go.mod" && "$COMMIT" != unversioned && -n "$(git -C "$SRC" status --porcelain 2>/dev/null)" ]]; then
  COMMIT="$COMMIT-dirty-$(date -u +%Y%m%d%H%M%S)"   # local edits: never reuse a build of other code
fi
GO_VERSION="$(GOTOOLCHAIN=local go env GOVERSION)"

# shellcheck source=../scripts/lib/go-tool-cache.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/go-tool-cache.sh"
tool_cache_open build-k8sgpt.sh "k8sgpt-${COMMIT}-${GO_VERSION}" k8sgpt

WORK="$TMP/src"
mkdir -p "$WORK"
if [[ -f "$SRC/go.mod" ]]; then
  cp -a "$SRC/." "$WORK/"
else
  git --git-dir="$SRC" archive HEAD | tar -x -C "$WORK"
fi
[[ -f "$WORK/go.mod" && -f "$WORK/main.go" ]] || { echo "build-k8sgpt.sh: $SRC has no go.mod/main.go at HEAD" >&2; exit 1; }

# go.mod asks for a newer toolchain line than some machines have; GOTOOLCHAIN=local builds with
# the installed go (a go directive newer than it fails here with go's own message).
export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOFLAGS="-mod=mod -buildvcs=false"
JOBS="${NETDOCTOR_BUILD_JOBS:-2}"
START=$SECONDS
echo "build-k8sgpt.sh: building k8sgpt $COMMIT from $SRC ($GO_VERSION, -p $JOBS) ..." >&2
# ldflags as k8sgpt's Makefile `build` target.
(cd "$WORK" && go build -p "$JOBS" -trimpath -o "$TMP/k8sgpt" \
  -ldflags "-s -w -X main.version=dev -X main.commit=${COMMIT} -X main.date=$(date -u +%FT%TZ)" .) >&2
rm -rf "$WORK"
"$TMP/k8sgpt" version >&2
tool_cache_close "built in $((SECONDS - START))s"

#!/usr/bin/env bash
# The cold path, run rather than remembered: clones HEAD into a temp dir with ../shared beside it
# (read-only, as CI lays it) and runs .ci/run with empty Go module/build caches, an empty npm cache
# and an empty netdoctor cache, then prints the time of each phase.
#
# Usage: scripts/cold-check.sh [--keep]     (--keep leaves the temp dir for inspection)
# Env:   NETDOCTOR_SHARED  the shared folder to copy (default ../shared beside this checkout)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${NETDOCTOR_SHARED:-$ROOT/../shared}"
KEEP=0
[[ "${1:-}" == --keep ]] && KEEP=1
[[ -d "$SHARED/scenarios" ]] || { echo "cold-check: $SHARED/scenarios not found (set NETDOCTOR_SHARED)" >&2; exit 2; }

WORK="$(mktemp -d /tmp/netdoctor-cold.XXXXXX)"
cleanup() {
  # The Go module cache is written read-only: make it removable first.
  chmod -R u+w "$WORK" 2>/dev/null || true
  rm -rf "$WORK"
}
[[ $KEEP == 1 ]] || trap cleanup EXIT

git clone --quiet --no-local "$ROOT" "$WORK/netdoctor"
cp -r "$SHARED" "$WORK/shared"
chmod -R a-w "$WORK/shared"
mkdir -p "$WORK/gomod" "$WORK/gocache" "$WORK/npm-cache" "$WORK/netdoctor-cache"
LOG="$WORK/ci.log"
echo "cold-check: $(git -C "$WORK/netdoctor" log --oneline -1) in $WORK (log: $LOG)"

start=$SECONDS
set +e
(cd "$WORK/netdoctor" && env CI=true \
  GOMODCACHE="$WORK/gomod" GOCACHE="$WORK/gocache" \
  npm_config_cache="$WORK/npm-cache" NETDOCTOR_CACHE="$WORK/netdoctor-cache" \
  bash .ci/run </dev/null) >"$LOG" 2>&1
status=$?
set -e
total=$((SECONDS - start))

echo "cold-check: phases"
# "ci: …took", "npm test: …took", the build scripts' "done, built in", globalSetup's summary line.
grep -E '^(ci|npm test): .* took [0-9]+ s$|^ci took|: done, built in|^\[global-setup\]' "$LOG" || true
tail -n 1 "$LOG" | sed 's/^/cold-check: last line: /'
grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOG" | tail -n 1 | sed 's/^/cold-check: result: /'
echo "cold-check: .ci/run exit $status after $((total / 60)) min $((total % 60)) s"
[[ $status == 0 ]] || { echo "cold-check: FAILED; last 40 lines of $LOG:"; tail -n 40 "$LOG"; KEEP=1; trap - EXIT; echo "cold-check: kept $WORK"; }
exit $status

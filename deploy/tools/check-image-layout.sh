#!/usr/bin/env bash
# What deploy/Dockerfile's runtime stage holds, checked without a container engine:
# production dependencies only (npm ci --omit=dev --ignore-scripts), dist/ from tsc,
# bin/ and workflows/, all owned by root and read-only to the process, which runs as
# uid/gid 10001 with HOME=/tmp and an empty environment. Catches a runtime import of a
# devDependency, a write outside /tmp, a file the image forgets to copy.
#
# Usage: deploy/tools/check-image-layout.sh [SCENARIO_DIR]   (default: ../shared/scenarios/triton-kube-proxy-config)
# Needs root (setpriv to uid 10001). Takes ~1 min (npm ci + tsc).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SCENARIO="${1:-$ROOT/../shared/scenarios/triton-kube-proxy-config}"
[[ $(id -u) == 0 ]] || { echo "check-image-layout.sh: needs root (setpriv)" >&2; exit 2; }

WORK="$(mktemp -d /tmp/netdoctor-image.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
APP="$WORK/app"
mkdir -p "$APP"
cp "$ROOT/package.json" "$ROOT/package-lock.json" "$APP/"
(cd "$APP" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
(cd "$ROOT" && npx tsc -p tsconfig.build.json --outDir "$APP/dist") >&2
cp -r "$ROOT/bin" "$ROOT/workflows" "$APP/"
chown -R 0:0 "$APP"
chmod -R go-w "$APP"
chmod 755 "$WORK"

run() { # as the image runs: uid 10001, HOME=/tmp, nothing else from this environment
  (cd "$APP" && setpriv --reuid 10001 --regid 10001 --clear-groups \
    env -i HOME=/tmp NODE_ENV=production PATH=/usr/local/bin:/usr/bin:/bin NODE_OPTIONS=--enable-source-maps \
    node bin/netdoctor.js "$@")
}

fail=0
run checks >/dev/null && echo "ok   netdoctor checks" || { echo "FAIL netdoctor checks"; fail=1; }
if [[ -d "$SCENARIO" ]]; then
  ns="$(awk '$1 == "namespace:" { print $2; exit }' "$SCENARIO/expect.yaml")"
  # diagnose exits 0 (healthy) or non-zero by verdict; a crash prints a stack instead of a report.
  out="$(run diagnose "$ns" --from "$SCENARIO" --output json || true)"
  if echo "$out" | grep -q '"apiVersion": "netdoctor.report/v1"'; then echo "ok   netdoctor diagnose $ns --from $(basename "$SCENARIO")"; else echo "FAIL diagnose: $out" | head -20; fail=1; fi
fi
# serve without credentials must fail with a configuration message, not a missing module.
msg="$(run serve 2>&1 || true)"
if echo "$msg" | grep -q 'SLACK_'; then echo "ok   netdoctor serve (refuses to start without Slack credentials)"; else echo "FAIL serve: $msg" | head -20; fail=1; fi
du -sh "$APP/node_modules" | awk '{ print "info production node_modules: " $1 }'
exit $fail

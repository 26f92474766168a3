#!/usr/bin/env bash
# The one test command (npm test): type-check, the layer rules (dependency-cruiser), lint
# (typescript-eslint, strict type-checked), build the CLI, then every jest project.
# The integration project's globalSetup builds (or reuses) the control-plane binaries and
# starts its own kube-apiserver and Redis on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
# The full run needs the shared scenarios (../shared); `npm run test:unit` alone skips them.
export NETDOCTOR_REQUIRE_SHARED=1
shared="${NETDOCTOR_SHARED:-../shared}"
[[ -d "$shared/scenarios" ]] || { echo "npm test: $shared/scenarios not found: put ../shared beside the checkout or set NETDOCTOR_SHARED" >&2; exit 2; }
t=$SECONDS
npx tsc --noEmit -p .
echo "npm test: type-check took $((SECONDS - t)) s" >&2
t=$SECONDS
npx depcruise src
echo "npm test: layer rules took $((SECONDS - t)) s" >&2
t=$SECONDS
npx eslint .
echo "npm test: lint took $((SECONDS - t)) s" >&2
t=$SECONDS
npm run --silent build
echo "npm test: build took $((SECONDS - t)) s" >&2
# One apiserver and one Redis serve the whole run, and scenarios share kube-system: run files one at a time.
# --forceExit: a failed integration test can leave a server handle open, and jest would then wait
# forever after printing its result (seen once under load); the result is what CI needs.
exec npx jest --runInBand --forceExit "$@"

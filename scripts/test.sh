#!/usr/bin/env bash
# The one test command (npm test): type-check, build the CLI, then every jest project.
# The integration project's globalSetup builds (or reuses) the control-plane binaries and
# starts its own kube-apiserver and Redis on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc --noEmit -p .
npm run --silent build
exec npx jest "$@"

#!/usr/bin/env bash
# The one test command (npm test): type-check, build the CLI, then every jest project.
# The integration project's globalSetup builds (or reuses) the control-plane binaries and
# starts its own kube-apiserver and Redis on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc --noEmit -p .
npm run --silent build
# One apiserver and one Redis serve the whole run, and scenarios share kube-system: run files one at a time.
exec npx jest --runInBand "$@"

#!/usr/bin/env bash
# The test command: prepares Docker (see setup-docker.sh), then runs every test of the package.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-docker.sh
exec cargo test --all-targets --locked "$@"

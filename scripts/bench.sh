#!/usr/bin/env bash
# The benchmark suite: prepares Docker and the test images (see setup-docker.sh), then runs podtui against its
# baselines and writes docs/performance.md. `--quick` runs fewer repetitions; `--only pickup,cold` picks benches
# (pickup, cold, fifty, idle, flood, render, scale, api; `--help` describes each). Each bench is a module of
# benches/scenarios/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-docker.sh
exec cargo bench --locked --bench podtui -- "$@"

#!/usr/bin/env bash
# The benchmark suite: prepares Docker and the test images (see setup-docker.sh), then runs podtui against its
# baselines and writes docs/performance.md. `--quick` runs fewer repetitions; `--only pickup,cold` picks benches
# (pickup, cold, startup, adopt, adaptive, fifty, idle, flood, render, scale, api, forward, podman; `--help` describes each). Each bench is a module
# of benches/scenarios/. The podman bench also sets podman up (setup-podman.sh); where that fails, its section
# says it did not run and the rest goes on.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-docker.sh
only=""
prev=""
for a in "$@"; do
  [ "$prev" = --only ] && only=$a
  prev=$a
done
if [ -z "$only" ] || [[ ",$only," == *,podman,* ]]; then
  if podman_host=$(bash scripts/setup-podman.sh | tail -n 1); then
    export PODTUI_BENCH_PODMAN_HOST=${podman_host#DOCKER_HOST=}
  else
    echo "bench: podman could not be set up; the podman bench will say it did not run" >&2
  fi
fi
exec cargo bench --locked --bench podtui -- "$@"

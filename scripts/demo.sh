#!/usr/bin/env bash
# Opens podtui (the terminal UI) on manifests/ with everything it needs: a Docker engine that answers (installed and started when
# missing, as root), the images the examples use (pulled, or built locally from Debian packages when no registry
# is reachable), and a release build of podtui.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
ensure_packages docker:docker.io dockerd:docker.io busybox:busybox-static
ensure_engine
bash scripts/example-images.sh
say "building podtui (release)"
cargo build --release --locked -q
exec ./target/release/podtui manifests "$@"

#!/usr/bin/env bash
# Makes the images the example manifests use available. Where a registry is reachable, the engine pulls them;
# on an air-gapped machine they are built locally: busybox from busybox-static, nginx from Debian's nginx package.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"
ensure_example_image busybox:latest build_busybox_image
ensure_example_image nginx:latest build_nginx_image

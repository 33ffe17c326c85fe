# Shared helpers for podtui's scripts. Source it; do not run it.
# shellcheck shell=bash

say() { printf '\033[1m[podtui]\033[0m %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Installs Debian packages that are missing (only as root; otherwise says what to install).
ensure_packages() {
  local missing=()
  for spec in "$@"; do
    local cmd=${spec%%:*} pkg=${spec##*:}
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "missing packages: ${missing[*]} (install them with apt-get as root)"
  fi
  say "installing ${missing[*]} with apt-get (they are missing)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Starts dockerd in the background when no engine answers, then waits for it.
ensure_engine() {
  if docker info >/dev/null 2>&1; then return 0; fi
  if [ -n "${DOCKER_HOST:-}" ]; then
    die "DOCKER_HOST=$DOCKER_HOST does not answer"
  fi
  [ "$(id -u)" -eq 0 ] || die "no Docker engine answers and only root can start dockerd here"
  local log=${PODTUI_DOCKERD_LOG:-/var/log/podtui-dockerd.log}
  say "starting dockerd in the background (log: $log)"
  # From /, like the podman service: the clone it was started from may be deleted while it runs.
  (cd / && exec setsid dockerd) >"$log" 2>&1 </dev/null &
  for _ in $(seq 1 120); do
    if docker info >/dev/null 2>&1; then
      say "Docker engine $(docker version -f '{{.Server.Version}}' 2>/dev/null) is up"
      return 0
    fi
    sleep 0.5
  done
  tail -20 "$log" >&2 || true
  die "dockerd did not start within 60 s"
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# A busybox root filesystem from Debian's busybox-static, in directory $1.
busybox_rootfs() {
  local root=$1 bb
  bb=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
  mkdir -p "$root"/{bin,etc,tmp,root,var/www,proc,sys,dev}
  chmod 1777 "$root/tmp"
  cp "$bb" "$root/bin/busybox"
  local applet
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
  cat >"$root/etc/group" <<'GROUP'
root:x:0:
www-data:x:33:
nogroup:x:65534:
GROUP
}

# Imports directory $1 as image $2 with the Dockerfile instruction $3.
import_rootfs() {
  tar -C "$1" -c . | docker import --change "$3" - "$2" >/dev/null
}

# Builds image $1 (e.g. busybox:latest) from busybox-static.
build_busybox_image() {
  local ref=$1 work
  work=$(mktemp -d)
  busybox_rootfs "$work/rootfs"
  import_rootfs "$work/rootfs" "$ref" 'CMD ["sh"]'
  rm -rf "$work"
  say "built $ref from Debian's busybox-static"
}

# Builds image $1 (e.g. nginx:latest) from Debian's nginx package and its dependencies (downloaded with
# apt-get, unpacked with dpkg-deb; no maintainer scripts run, so the few things they would do are done here).
build_nginx_image() {
  local ref=$1 work pkgs
  work=$(mktemp -d)
  chmod 755 "$work"
  busybox_rootfs "$work/rootfs"
  pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
           --no-replaces --no-enhances nginx 2>/dev/null | grep '^[a-z0-9]' | sort -u)
  [ -n "$pkgs" ] || { apt-get update -qq >/dev/null 2>&1 || true; pkgs=$(apt-cache depends --recurse --no-recommends \
           --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances nginx | grep '^[a-z0-9]' | sort -u); }
  say "downloading Debian's nginx and its $(echo "$pkgs" | wc -l) dependencies"
  (cd "$work" && apt-get download -qq $pkgs >/dev/null) || die "apt-get download failed"
  local deb
  for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/rootfs"; done
  mkdir -p "$work/rootfs"/{var/log/nginx,var/lib/nginx,run,var/www/html,etc/nginx/sites-enabled}
  ln -sf /etc/nginx/sites-available/default "$work/rootfs/etc/nginx/sites-enabled/default"
  cat >"$work/rootfs/var/www/html/index.html" <<'HTML'
<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head>
<body><h1>Welcome to nginx!</h1><p>Served by Debian's nginx in a podtui pod, built offline.</p></body></html>
HTML
  import_rootfs "$work/rootfs" "$ref" 'CMD ["nginx", "-g", "daemon off;"]'
  rm -rf "$work"
  say "built $ref from Debian's nginx package"
}

# Makes image $1 available: already present, pulled from a registry, or built locally by function $2.
ensure_example_image() {
  local ref=$1 builder=$2
  image_exists "$ref" && return 0
  if timeout 120 docker pull -q "$ref" >/dev/null 2>&1; then
    say "pulled $ref"
    return 0
  fi
  say "$ref is not present and no registry answers: building it locally from Debian packages"
  "$builder" "$ref"
}

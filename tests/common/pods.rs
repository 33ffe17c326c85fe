//! Pod manifests the Docker tests and the benchmarks share, with the offline test images.

use super::{BUSYBOX, SEEDED};

/// A shell loop that exits at once on SIGTERM (a busybox `sh` as PID 1 otherwise ignores it).
pub const SLEEPER: &str = "trap 'exit 0' TERM; while true; do sleep 1; done";

/// Pod `name`: two busybox sleepers (`a`, `b`), `a` mounting an emptyDir; a 2 s grace period.
pub fn sleeper_pod(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: a\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, \"{SLEEPER}\"]\n    volumeMounts: [{{name: d, mountPath: /d}}]\n  - name: b\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, \"{SLEEPER}\"]\n  volumes:\n  - name: d\n    emptyDir: {{}}\n"
    )
}

/// Pod `name` shaped like manifests/nginx.yaml: `web` serves HTTP on :80 with busybox httpd from the seeded
/// image (files at /var/log/nginx, as nginx's has), `side` a sleeper; both mount one emptyDir.
pub fn example_pod(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: web\n    image: {SEEDED}\n    command: [/bin/sh, -c, 'mkdir -p /www; exec httpd -f -p 80 -h /www']\n    volumeMounts: [{{name: logs, mountPath: /var/log/nginx}}]\n  - name: side\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, \"{SLEEPER}\"]\n    volumeMounts: [{{name: logs, mountPath: /logdir}}]\n  volumes:\n  - name: logs\n    emptyDir: {{}}\n"
    )
}

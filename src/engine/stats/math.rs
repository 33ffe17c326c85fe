//! The arithmetic of resource use, pure: CPU in millicores from two cumulative samples, the kubelet's memory
//! working set, shares of a limit, and kubectl top's spelling of both (`12m`, `5Mi`).

use crate::runtime::StatsSample;

/// CPU use between two samples of one container, in millicores (1000 = one core busy).
///
/// Docker's `docker stats` computes `cpu_delta / system_delta × online_cpus` (the system counter is the host's
/// CPU time over all CPUs, so the ratio is a share of the whole machine, scaled back to cores). When the engine
/// gives no system counter (some podman versions), the wall-clock gap between the samples stands in for it.
/// A counter that went backwards (a restarted container reusing nothing) gives `None`.
pub fn cpu_millicores(prev: &StatsSample, cur: &StatsSample) -> Option<u64> {
    let cpu_delta = cur.cpu_total_ns.checked_sub(prev.cpu_total_ns)?;
    let sys_delta = cur.system_cpu_ns.saturating_sub(prev.system_cpu_ns);
    if sys_delta > 0 && cur.online_cpus > 0 {
        let share = cpu_delta as f64 / sys_delta as f64;
        return Some((share * f64::from(cur.online_cpus) * 1000.0).round() as u64);
    }
    let wall = cur
        .time
        .zip(prev.time)
        .map(|(c, p)| (c.as_nanosecond() - p.as_nanosecond()).max(0) as u64)
        .filter(|w| *w > 0)?;
    Some((cpu_delta as f64 / wall as f64 * 1000.0).round() as u64)
}

/// The memory working set as the kubelet (and so `kubectl top`) computes it: usage minus inactive file pages,
/// never below zero.
pub fn working_set(s: &StatsSample) -> u64 {
    s.memory_usage.saturating_sub(s.memory_inactive_file)
}

/// `used` as a whole percentage of `limit` (k9s' %CPU/L and %MEM/L); `None` without a limit.
pub fn percent_of(used: u64, limit: Option<u64>) -> Option<u64> {
    let limit = limit.filter(|l| *l > 0)?;
    Some(((used as f64 / limit as f64) * 100.0).round() as u64)
}

/// CPU as `kubectl top` prints it: millicores with an `m` (`0m`, `12m`, `1500m`).
pub fn cpu_text(millicores: u64) -> String {
    format!("{millicores}m")
}

/// Memory as `kubectl top` prints it: whole mebibytes with `Mi`, rounded down (kubectl divides the value by
/// 1 MiB).
pub fn memory_text(bytes: u64) -> String {
    format!("{}Mi", bytes / (1024 * 1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(cpu: u64, sys: u64, cpus: u32) -> StatsSample {
        StatsSample {
            time: None,
            cpu_total_ns: cpu,
            system_cpu_ns: sys,
            online_cpus: cpus,
            memory_usage: 0,
            memory_inactive_file: 0,
            memory_limit: 0,
            rx_bytes: 0,
            tx_bytes: 0,
        }
    }

    #[test]
    fn one_busy_core_of_two_is_1000m() {
        // 1 s of wall time on a 2-CPU host: the system counter advances 2 s; the container used 1 s.
        let a = sample(5_000_000_000, 100_000_000_000, 2);
        let b = sample(6_000_000_000, 102_000_000_000, 2);
        assert_eq!(cpu_millicores(&a, &b), Some(1000));
        // A quarter of one core.
        let c = sample(6_250_000_000, 104_000_000_000, 2);
        assert_eq!(cpu_millicores(&b, &c), Some(250));
        // The same sample twice and no clock: no rate rather than a made-up zero.
        assert_eq!(cpu_millicores(&c, &c), None);
    }

    #[test]
    fn without_a_system_counter_wall_time_stands_in() {
        let mut a = sample(0, 0, 0);
        let mut b = sample(500_000_000, 0, 0);
        a.time = Some("2026-01-01T00:00:00Z".parse().unwrap());
        b.time = Some("2026-01-01T00:00:01Z".parse().unwrap());
        assert_eq!(cpu_millicores(&a, &b), Some(500));
        // Same instant and no system counter: no rate.
        assert_eq!(cpu_millicores(&a, &a), None);
    }

    #[test]
    fn a_counter_going_backwards_gives_no_rate() {
        let a = sample(9_000, 10_000, 1);
        let b = sample(1_000, 20_000, 1);
        assert_eq!(cpu_millicores(&a, &b), None);
    }

    #[test]
    fn working_set_is_usage_minus_inactive_file() {
        let mut s = sample(0, 0, 1);
        s.memory_usage = 100 << 20;
        s.memory_inactive_file = 30 << 20;
        assert_eq!(working_set(&s), 70 << 20);
        s.memory_inactive_file = 200 << 20;
        assert_eq!(working_set(&s), 0);
    }

    #[test]
    fn percent_of_a_limit() {
        assert_eq!(percent_of(250, Some(500)), Some(50));
        assert_eq!(percent_of(750, Some(500)), Some(150));
        assert_eq!(percent_of(1, None), None);
        assert_eq!(percent_of(1, Some(0)), None);
    }

    #[test]
    fn kubectl_top_spelling() {
        assert_eq!(cpu_text(12), "12m");
        assert_eq!(memory_text(5 * 1024 * 1024 + 1000), "5Mi");
        assert_eq!(memory_text(0), "0Mi");
        assert_eq!(memory_text(300 * 1024), "0Mi");
    }
}

//! How many container creates and starts are in flight at once: a window found from what the engine answers,
//! as TCP finds its congestion window. Each call's latency is compared with the fastest seen for its kind
//! (`create`, `start`); while it holds (under [`GROW_BELOW`]× the fastest) the window grows, by one a call until
//! the first shrink (slow start), then by one per window's worth of calls (additive increase); when it climbs past [`SHRINK_ABOVE`]× the window shrinks to
//! [`SHRINK_TO`] of itself (multiplicative decrease), at most once per window's worth of calls. A 2-core
//! machine settles near what dockerd does at once; a bigger one grows further. `PODTUI_START_CONCURRENCY`
//! fixes the window instead ([`StartWindow::fixed`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The window a fresh engine begins with.
pub const INITIAL: f64 = 4.0;
/// Never fewer in flight.
pub const MIN: f64 = 2.0;
/// Never more in flight (dockerd queues past this long before it gets faster).
pub const MAX: f64 = 64.0;
/// Latency under this multiple of the fastest seen counts as holding: the window grows.
pub const GROW_BELOW: f64 = 1.6;
/// Latency over this multiple of the fastest seen counts as climbing: the window shrinks.
pub const SHRINK_ABOVE: f64 = 2.5;
/// The factor a shrink multiplies the window by.
pub const SHRINK_TO: f64 = 0.7;

#[derive(Debug)]
struct State {
    /// The window (fractional while it grows).
    window: f64,
    adaptive: bool,
    in_flight: usize,
    /// Fastest latency seen, by kind of call; it drifts up slowly so a slower engine later is not penalised
    /// for ever.
    fastest: HashMap<&'static str, Duration>,
    /// Calls to finish before the next shrink may happen.
    calm: f64,
    /// Largest window reached (for the bench and the log).
    peak: f64,
    /// Until the first shrink the window grows by one per call (TCP's slow start), then by one per window.
    slow_start: bool,
}

/// The shared window (cheap to clone; clones share it).
#[derive(Clone, Debug)]
pub struct StartWindow {
    state: Arc<Mutex<State>>,
    freed: Arc<Notify>,
}

/// A turn in the window; dropping it (after the call) frees the slot and reports the call's latency.
#[derive(Debug)]
pub struct Turn {
    window: StartWindow,
    kind: &'static str,
    since: Instant,
}

impl StartWindow {
    fn new(window: f64, adaptive: bool) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                window,
                adaptive,
                in_flight: 0,
                fastest: HashMap::new(),
                calm: 0.0,
                peak: window,
                slow_start: true,
            })),
            freed: Arc::new(Notify::new()),
        }
    }

    /// A window that adapts to the engine's latency, starting at [`INITIAL`].
    pub fn adaptive() -> Self {
        Self::new(INITIAL, true)
    }

    /// A fixed window of `n` (at least 1).
    pub fn fixed(n: usize) -> Self {
        Self::new(n.max(1) as f64, false)
    }

    /// The window now (how many may be in flight).
    pub fn current(&self) -> usize {
        self.lock().window.floor() as usize
    }

    /// The largest window reached so far.
    pub fn peak(&self) -> usize {
        self.lock().peak.floor() as usize
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent across a panic elsewhere: every change is a few plain assignments.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for a turn for a call of `kind`; the latency counts from when the turn is given.
    pub async fn turn(&self, kind: &'static str) -> Turn {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut s = self.lock();
                if (s.in_flight as f64) < s.window.floor().max(1.0) {
                    s.in_flight += 1;
                    return Turn {
                        window: self.clone(),
                        kind,
                        since: Instant::now(),
                    };
                }
            }
            freed.await;
        }
    }

    fn finish(&self, kind: &'static str, latency: Duration) {
        let mut s = self.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        if s.adaptive {
            adapt(&mut s, kind, latency);
        }
        drop(s);
        self.freed.notify_waiters();
    }
}

/// One finished call moves the window.
fn adapt(s: &mut State, kind: &'static str, latency: Duration) {
    let fastest = s.fastest.entry(kind).or_insert(latency);
    // Drift up by 0.2% a call, so the reference follows an engine that got slower for good.
    *fastest = fastest.mul_f64(1.002).min(latency);
    let ratio = latency.as_secs_f64() / fastest.as_secs_f64().max(1e-6);
    s.calm -= 1.0;
    if ratio > SHRINK_ABOVE {
        if s.calm <= 0.0 {
            s.window = (s.window * SHRINK_TO).max(MIN);
            s.calm = s.window;
            s.slow_start = false;
        }
    } else if ratio >= GROW_BELOW {
        // Latency starts to climb: slow start ends before it overshoots (as TCP's HyStart does).
        s.slow_start = false;
    } else {
        let step = if s.slow_start { 1.0 } else { 1.0 / s.window };
        s.window = (s.window + step).min(MAX);
    }
    s.peak = s.peak.max(s.window);
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.window.finish(self.kind, self.since.elapsed());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A model engine: `capacity` calls at once take `base` each; beyond that, every call in flight slows in
    /// proportion (the work is shared), as dockerd on a fixed number of cores.
    /// Returns how long the calls took and the most that were in flight at once.
    async fn run(
        window: &StartWindow,
        calls: usize,
        capacity: usize,
        base: Duration,
    ) -> (Duration, usize) {
        let busy = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let t0 = Instant::now();
        let tasks: Vec<_> = (0..calls)
            .map(|_| {
                let (w, busy, most) = (window.clone(), busy.clone(), most.clone());
                tokio::spawn(async move {
                    let _turn = w.turn("start").await;
                    let n = busy.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    let slow = (n as f64 / capacity as f64).max(1.0);
                    tokio::time::sleep(base.mul_f64(slow)).await;
                    busy.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        (t0.elapsed(), most.load(Ordering::SeqCst))
    }

    #[tokio::test(start_paused = true)]
    async fn the_window_settles_near_what_the_engine_does_at_once() {
        let base = Duration::from_millis(200);
        for capacity in [4usize, 8, 24] {
            let w = StartWindow::adaptive();
            let (took, most) = run(&w, 200, capacity, base).await;
            let ideal = base.mul_f64(200.0 / capacity as f64);
            assert!(
                took.as_secs_f64() <= ideal.as_secs_f64() * 1.25,
                "capacity {capacity}: {took:?} vs ideal {ideal:?}"
            );
            // Never so many in flight that a call takes many times its time alone (dockerd's timeouts come from
            // that), and it grew to use what the engine does at once.
            assert!(
                most <= capacity * 4,
                "capacity {capacity}: {most} in flight (peak window {})",
                w.peak()
            );
            assert!(
                w.peak() >= capacity.min(MAX as usize),
                "capacity {capacity}: peak {}",
                w.peak()
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_climbing_latency_shrinks_the_window() {
        let w = StartWindow::adaptive();
        for _ in 0..40 {
            let t = w.turn("start").await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            drop(t);
        }
        let grown = w.current();
        assert!(grown > INITIAL as usize, "grew to {grown}");
        for _ in 0..3 {
            let t = w.turn("start").await;
            tokio::time::sleep(Duration::from_secs(2)).await;
            drop(t);
        }
        assert!(w.current() < grown, "{} after {grown}", w.current());
    }

    #[tokio::test(start_paused = true)]
    async fn a_fixed_window_never_has_more_in_flight() {
        let w = StartWindow::fixed(3);
        let busy = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..30)
            .map(|_| {
                let (w, busy, most) = (w.clone(), busy.clone(), most.clone());
                tokio::spawn(async move {
                    let _t = w.turn("start").await;
                    let n = busy.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    busy.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 3);
        assert_eq!(w.current(), 3);
    }
}

//! How many container creates and starts are in flight at once: a window found from what the engine answers.
//! Latency alone is the wrong signal for dockerd: on a few cores every call slows as soon as two share a core,
//! long before more at once stops paying, so a window steered on latency stays too small. The window is
//! steered on throughput instead, as BBR steers TCP on delivery rate:
//!
//! - Calls are measured in rounds: the calls given their turn at one window, a window's worth of them. Each
//!   call tells the engine's throughput as it saw it (Little's law: `L` calls in flight on average during a
//!   call of latency `W` is `L / W` calls a second), weighted by the fastest latency seen for its kind
//!   (`create`, `start`, `start sandbox`), so quick creates and slow starts compare fairly; a round's rate is
//!   the mean. A round in which callers did not keep the window full (nobody waited) says nothing about the
//!   engine and is dropped; a probe that runs past twice a round at the window ends with what it has.
//! - The window is held and probed: after some rounds at it, one round runs one step up or down. A probe is
//!   kept when the calls it adds each bring at least [`MARGINAL`] of a call's worth of throughput, or the
//!   calls it takes away each brought less (the same rate with fewer in flight is better: shorter calls,
//!   less for dockerd to queue). A kept probe is followed at once by another the same way; one not kept
//!   sends the window back, turns the next probe around and doubles the rounds before it (up to
//!   [`PROBE_INTERVAL_MAX`]), so a settled window is rarely disturbed.
//!   A probe's step ([`PROBE_STEP`]) halves after each probe not kept, so the window closes in on the best
//!   one rather than jumping over it.
//! - Startup: from [`INITIAL`], steps up are [`STARTUP_GROWTH`]× until the first that does not pay; steady
//!   probes go on up from the last that did.
//! - A call that takes longer than [`PANIC_AFTER`] halves the window at once (dockerd's calls time out at
//!   30 s; this keeps them far from it).
//!
//! `PODTUI_START_CONCURRENCY` fixes the window instead ([`StartWindow::fixed`]).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The window a fresh engine begins with (the fixed window podtui used before it adapted).
pub const INITIAL: f64 = 8.0;
/// Never fewer in flight.
pub const MIN: f64 = 2.0;
/// Never more in flight.
pub const MAX: f64 = 64.0;
/// Startup multiplies the window by this while each step gains.
pub const STARTUP_GROWTH: f64 = 2.0;
/// A steady probe first tries the window times (1 + this) up, or divided by it down; the step halves after
/// each probe that is not kept (never under one call), and grows by half (up to [`PROBE_STEP_MAX`]) after one
/// that is.
pub const PROBE_STEP: f64 = 0.25;
/// The largest step.
pub const PROBE_STEP_MAX: f64 = 0.5;
/// A probe is kept when the calls it adds each bring at least this much of a call's worth of throughput (up),
/// or the calls it takes away each brought less (down).
pub const MARGINAL: f64 = 0.5;
/// After a probe that was not kept, the rounds at the window before the next one double, up to this.
pub const PROBE_INTERVAL_MAX: u32 = 16;
/// A call slower than this halves the window at once.
pub const PANIC_AFTER: Duration = Duration::from_secs(5);
/// The fewest completions a round measures.
const MIN_ROUND: usize = 4;
/// Rounds at the window whose work makes its rate.
const BASE_ROUNDS: usize = 3;

/// What the calls of some rounds found: for each kind of call, the sum over its calls of (calls in flight on
/// average during the call) ÷ (the call's latency).
#[derive(Clone, Debug, Default)]
struct Sample {
    sums: HashMap<&'static str, f64>,
    calls: u32,
    elapsed: Duration,
}

impl Sample {
    /// The engine's throughput as the calls saw it, in calls' worth of work at once: by Little's law a call
    /// that had `L` in flight with it and took `W` saw `L / W` calls a second; weighted by the fastest latency
    /// of its kind, that is work, so quick creates and slow starts compare fairly.
    fn rate(&self, fastest: &HashMap<&'static str, Duration>) -> f64 {
        let work: f64 = self
            .sums
            .iter()
            .map(|(k, x)| fastest.get(k).map_or(0.0, Duration::as_secs_f64) * x)
            .sum();
        work / f64::from(self.calls.max(1))
    }

    fn sum<'a>(samples: impl Iterator<Item = &'a Sample>) -> Sample {
        let mut out = Sample::default();
        for s in samples {
            for (k, x) in &s.sums {
                *out.sums.entry(k).or_default() += x;
            }
            out.calls += s.calls;
            out.elapsed += s.elapsed;
        }
        out
    }
}

/// The round being measured: the calls given their turn since it began.
#[derive(Debug)]
struct Round {
    id: u64,
    started: Instant,
    /// The window the round runs at.
    window: f64,
    sums: HashMap<&'static str, f64>,
    completions: usize,
    /// Completions after which nobody was waiting for a turn.
    unwaited: usize,
    /// A probe ends once it has run this long, however few calls finished: twice a round at the window.
    deadline: Option<Duration>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    Startup,
    Steady,
}

#[derive(Debug)]
struct State {
    /// The window (a whole number).
    window: f64,
    adaptive: bool,
    in_flight: usize,
    /// Callers waiting for a turn.
    waiting: usize,
    /// Fastest latency seen, by kind of call: the weight of a call of that kind in a round's work.
    fastest: HashMap<&'static str, Duration>,
    /// Largest window reached (for the bench and the log).
    peak: f64,
    phase: Phase,
    round: Option<Round>,
    /// Rounds begun so far (the next round's id).
    rounds_begun: u64,
    /// The window held, and the last rounds measured at it.
    base: f64,
    base_rounds: VecDeque<Sample>,
    /// Which way the next probe goes.
    up: bool,
    /// Rounds at `base` since the last probe, and how many to wait before the next.
    since_probe: u32,
    interval: u32,
    /// The steady probe's step (a fraction of the window).
    step: f64,
    /// The time integral of `in_flight` (call-seconds), up to `area_at`.
    area: f64,
    area_at: Instant,
    /// Calls in flight when the window last halved, whose slowness is already answered.
    excused: usize,
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
    /// The round the turn was given in.
    round: u64,
    /// The window's `area` when the turn was given.
    area: f64,
}

/// Counts a caller as waiting until it gets its turn or gives up.
struct Waiting<'a>(&'a StartWindow, bool);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.1 {
            let mut s = self.0.lock();
            s.waiting = s.waiting.saturating_sub(1);
        }
    }
}

impl StartWindow {
    fn new(window: f64, adaptive: bool) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                window,
                adaptive,
                in_flight: 0,
                waiting: 0,
                fastest: HashMap::new(),
                peak: window,
                phase: Phase::Startup,
                round: None,
                rounds_begun: 0,
                base: window,
                base_rounds: VecDeque::new(),
                up: true,
                since_probe: 0,
                interval: 1,
                step: PROBE_STEP,
                excused: 0,
                area: 0.0,
                area_at: Instant::now(),
            })),
            freed: Arc::new(Notify::new()),
        }
    }

    /// A window that follows the engine's throughput, starting at [`INITIAL`].
    pub fn adaptive() -> Self {
        Self::new(INITIAL, true)
    }

    /// A fixed window of `n` (at least 1).
    pub fn fixed(n: usize) -> Self {
        Self::new(n.max(1) as f64, false)
    }

    /// The window now (how many may be in flight).
    pub fn current(&self) -> usize {
        self.lock().window as usize
    }

    /// The largest window reached so far.
    pub fn peak(&self) -> usize {
        self.lock().peak as usize
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent across a panic elsewhere: every change is a few plain assignments.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for a turn for a call of `kind`; the latency counts from when the turn is given.
    pub async fn turn(&self, kind: &'static str) -> Turn {
        let mut waiting = Waiting(self, false);
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut s = self.lock();
                if (s.in_flight as f64) < s.window.max(1.0) {
                    let now = Instant::now();
                    s.accrue(now);
                    s.in_flight += 1;
                    if waiting.1 {
                        s.waiting -= 1;
                        waiting.1 = false;
                    }
                    if s.adaptive && s.round.is_none() {
                        s.round = Some(s.next_round(now));
                    }
                    return Turn {
                        window: self.clone(),
                        kind,
                        since: now,
                        round: s.round.as_ref().map_or(0, |r| r.id),
                        area: s.area,
                    };
                }
                if !waiting.1 {
                    s.waiting += 1;
                    waiting.1 = true;
                }
            }
            freed.await;
        }
    }

    fn finish(&self, turn: &Turn) {
        let mut s = self.lock();
        let now = Instant::now();
        s.accrue(now);
        let in_flight = (s.area - turn.area) / (now - turn.since).as_secs_f64().max(1e-9);
        s.in_flight = s.in_flight.saturating_sub(1);
        if s.adaptive {
            s.adapt(turn, in_flight, now);
        }
        drop(s);
        self.freed.notify_waiters();
    }
}

impl Round {
    fn new(id: u64, started: Instant, window: f64, deadline: Option<Duration>) -> Self {
        Self {
            id,
            started,
            window,
            sums: HashMap::new(),
            completions: 0,
            unwaited: 0,
            deadline,
        }
    }
}

impl State {
    /// One finished call: counted in the round it was given its turn in, if that is still measured; a round
    /// that is complete moves the window.
    fn adapt(&mut self, turn: &Turn, in_flight: f64, now: Instant) {
        let (kind, latency) = (turn.kind, now - turn.since);
        let fastest = self.fastest.entry(kind).or_insert(latency);
        *fastest = (*fastest).min(latency);
        if self.excused > 0 {
            self.excused -= 1;
        } else if latency > PANIC_AFTER {
            self.set_window((self.window / 2.0).max(MIN));
            self.phase = Phase::Steady;
            self.base = self.window;
            self.base_rounds.clear();
            self.since_probe = 0;
            self.interval = PROBE_INTERVAL_MAX;
            self.excused = self.in_flight;
            self.round = None;
            return;
        }
        let idle = self.in_flight == 0 && self.waiting == 0;
        let Some(mut round) = self.round.take() else {
            return;
        };
        if round.id == turn.round {
            *round.sums.entry(kind).or_default() += in_flight / latency.as_secs_f64().max(1e-9);
            round.completions += 1;
            if self.waiting == 0 {
                round.unwaited += 1;
            }
        }
        let length = (round.window as usize).max(MIN_ROUND);
        let overdue = round.deadline.is_some_and(|d| now - round.started >= d);
        if round.completions >= length || overdue {
            // A round in which callers mostly left the window unused measured them, not the engine.
            if round.unwaited * 2 <= round.completions {
                let sample = Sample {
                    sums: round.sums,
                    calls: round.completions as u32,
                    elapsed: now - round.started,
                };
                self.decide(round.window, sample);
            }
            if !idle {
                self.round = Some(self.next_round(now));
            }
        } else if !idle {
            self.round = Some(round);
        }
        // Otherwise the engine went quiet: the time until the next call is not the engine's.
    }

    /// Brings `area` up to `now`.
    fn accrue(&mut self, now: Instant) {
        self.area += self.in_flight as f64 * (now - self.area_at).as_secs_f64();
        self.area_at = now;
    }

    /// The round that begins at `now`, at the window now.
    fn next_round(&mut self, now: Instant) -> Round {
        self.rounds_begun += 1;
        let deadline = (self.window != self.base && !self.base_rounds.is_empty()).then(|| {
            let at_base = Sample::sum(self.base_rounds.iter()).elapsed;
            at_base.mul_f64(2.0 / self.base_rounds.len() as f64)
        });
        Round::new(self.rounds_begun, now, self.window, deadline)
    }

    /// A measured round at `window` moves the window.
    fn decide(&mut self, window: f64, sample: Sample) {
        if window != self.base {
            // A probe: kept when it paid (up) or cost next to nothing (down), and then the next goes the same way
            // at once; otherwise back to the window, and the next probe goes the other way, later.
            let rate = sample.rate(&self.fastest);
            let base = Sample::sum(self.base_rounds.iter()).rate(&self.fastest);
            // The rate the window would have if the calls added or taken away each did MARGINAL of a call.
            let par = base * (1.0 + MARGINAL * (window / self.base - 1.0));
            let keep = rate >= par;
            tracing::debug!(
                window,
                base = self.base,
                rate,
                par,
                keep,
                "start window probe"
            );
            if keep {
                self.hold(window, sample);
                self.interval = 1;
                if self.phase == Phase::Steady {
                    self.step = (self.step * 1.5).min(PROBE_STEP_MAX);
                }
                self.probe();
            } else if self.phase == Phase::Startup {
                // Doubling overshot: the best window lies between; steady probes go on up from here.
                self.phase = Phase::Steady;
                self.set_window(self.base);
            } else {
                self.set_window(self.base);
                self.step /= 2.0;
                self.up = !self.up;
                self.interval = (self.interval * 2).min(PROBE_INTERVAL_MAX);
            }
            return;
        }
        self.base_rounds.push_back(sample);
        if self.base_rounds.len() > BASE_ROUNDS {
            self.base_rounds.pop_front();
        }
        self.since_probe += 1;
        if self.since_probe >= self.interval {
            self.probe();
        }
    }

    /// Tries the next window in the probe's direction (the other way at a bound).
    fn probe(&mut self) {
        let (b, step) = (self.base, self.step);
        let next = |up: bool, phase: Phase| {
            let w = match (up, phase) {
                (true, Phase::Startup) => b * STARTUP_GROWTH,
                (true, Phase::Steady) => (b * (1.0 + step)).max(b + 1.0),
                (false, _) => (b / (1.0 + step)).min(b - 1.0),
            };
            w.clamp(MIN, MAX).round()
        };
        let mut w = next(self.up, self.phase);
        if w == b {
            self.up = !self.up;
            self.phase = Phase::Steady;
            w = next(self.up, self.phase);
        }
        self.since_probe = 0;
        self.set_window(w);
    }

    /// Holds `window` from now on, with `sample` as its first measured round.
    fn hold(&mut self, window: f64, sample: Sample) {
        self.base = window;
        self.base_rounds = VecDeque::from([sample]);
        self.since_probe = 0;
    }

    fn set_window(&mut self, window: f64) {
        self.window = window.clamp(MIN, MAX).round();
        self.peak = self.peak.max(self.window);
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.window.finish(self);
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A model engine that shares its work out (processor sharing): a call needs `base` of work alone; with `n`
    /// in flight each progresses at `min(1, capacity / n)`, times `(capacity / n)^(exp - 1)` past the capacity
    /// (`exp` 1: the work is shared, as on a fixed number of cores; over 1: contention makes more at once slower
    /// in total, as dockerd's locks do). Returns how long the calls took and the most in flight at once.
    async fn run(
        window: &StartWindow,
        calls: usize,
        capacity: usize,
        base: Duration,
        exp: f64,
    ) -> (Duration, usize) {
        type Jobs = Arc<Mutex<Vec<(f64, tokio::sync::oneshot::Sender<()>)>>>;
        let jobs: Jobs = Arc::default();
        let most = Arc::new(AtomicUsize::new(0));
        let tick = Duration::from_millis(1);
        let engine = {
            let (jobs, most) = (jobs.clone(), most.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(tick).await;
                    let mut jobs = jobs.lock().unwrap();
                    let n = jobs.len();
                    most.fetch_max(n, Ordering::SeqCst);
                    let share = (capacity as f64 / n.max(1) as f64).min(1.0);
                    let speed = share * share.powf(exp - 1.0);
                    let step = tick.as_secs_f64() / base.as_secs_f64() * speed;
                    for j in jobs.iter_mut() {
                        j.0 -= step;
                    }
                    let (done, left): (Vec<_>, Vec<_>) = jobs.drain(..).partition(|j| j.0 <= 1e-9);
                    *jobs = left;
                    for (_, tx) in done {
                        let _ = tx.send(());
                    }
                }
            })
        };
        let t0 = Instant::now();
        let tasks: Vec<_> = (0..calls)
            .map(|_| {
                let (w, jobs) = (window.clone(), jobs.clone());
                tokio::spawn(async move {
                    let _turn = w.turn("start").await;
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    jobs.lock().unwrap().push((1.0, tx));
                    rx.await.unwrap();
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        engine.abort();
        (t0.elapsed(), most.load(Ordering::SeqCst))
    }

    #[tokio::test(start_paused = true)]
    async fn the_window_grows_to_what_the_engine_does_at_once() {
        let base = Duration::from_millis(200);
        for capacity in [4usize, 8, 24, 48] {
            let w = StartWindow::adaptive();
            let (took, most) = run(&w, 2000, capacity, base, 1.0).await;
            let ideal = base.mul_f64(2000.0 / capacity as f64);
            assert!(
                took.as_secs_f64() <= ideal.as_secs_f64() * 1.2,
                "capacity {capacity}: {took:?} vs ideal {ideal:?} (peak window {})",
                w.peak()
            );
            assert!(
                w.peak() >= capacity,
                "capacity {capacity}: peak {}",
                w.peak()
            );
            // It stopped growing once more at once stopped paying.
            assert!(
                most <= (capacity * 2).max(INITIAL as usize * 2),
                "capacity {capacity}: {most} in flight (peak window {})",
                w.peak()
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn contention_keeps_the_window_near_the_best_fixed_one() {
        // Past the capacity the engine gets slower in total: the best fixed window is the capacity.
        let base = Duration::from_millis(200);
        for capacity in [6usize, 16, 32] {
            let w = StartWindow::adaptive();
            let (adaptive, _) = run(&w, 1500, capacity, base, 2.0).await;
            let (best, _) = run(&StartWindow::fixed(capacity), 1500, capacity, base, 2.0).await;
            let (initial, _) = run(
                &StartWindow::fixed(INITIAL as usize),
                1500,
                capacity,
                base,
                2.0,
            )
            .await;
            assert!(
                adaptive.as_secs_f64() <= best.as_secs_f64() * 1.1,
                "capacity {capacity}: adaptive {adaptive:?}, best fixed {best:?}, fixed {INITIAL} {initial:?} (window {}, peak {})",
                w.current(),
                w.peak()
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_same_rate_with_fewer_in_flight_wins() {
        // Two at once is all this engine does: the window comes down from where it began.
        let w = StartWindow::adaptive();
        run(&w, 600, 2, Duration::from_millis(100), 1.0).await;
        assert!(w.current() <= 4, "window {}", w.current());
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_that_leaves_the_window_unused_does_not_move_it() {
        let w = StartWindow::adaptive();
        for _ in 0..100 {
            let t = w.turn("start").await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            drop(t);
        }
        assert_eq!(w.current(), INITIAL as usize);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_near_the_timeout_halves_the_window() {
        let w = StartWindow::adaptive();
        let slow: Vec<_> = (0..8)
            .map(|_| {
                let w = w.clone();
                tokio::spawn(async move {
                    let _t = w.turn("start").await;
                    tokio::time::sleep(PANIC_AFTER + Duration::from_secs(1)).await;
                })
            })
            .collect();
        for t in slow {
            t.await.unwrap();
        }
        // Halved once for the eight slow calls in flight together, not once each.
        assert_eq!(w.current(), INITIAL as usize / 2);
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

//! Live resource use in the app: the latest [`StatsView`] from the engine's sampler, and the interest the app
//! declares in it — the pods on screen (the pods table's rows, or the pod view's pod) — as an
//! [`Effect::Engine`] of [`Request::WatchStats`], renewed before it lapses and re-sent when what is shown changes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::effect::Effect;
use super::pods::SortKey;
use super::{App, Screen};
use crate::engine::Request;
use crate::engine::stats::{INTEREST_TTL, StatsView};

/// What the app last asked to watch, and when.
#[derive(Clone, Debug, Default)]
pub struct StatsState {
    /// The latest view.
    pub view: Arc<StatsView>,
    asked: Option<((Vec<String>, bool), Instant)>,
}

impl App {
    /// A new view from the sampler.
    pub fn on_stats(&mut self, view: Arc<StatsView>) {
        self.stats.view = view.clone();
        self.pods.usage = view;
        if matches!(self.pods.sort, SortKey::Cpu | SortKey::Mem) {
            self.refresh_visible();
        }
    }

    /// The UIDs of the pods on screen.
    pub fn watched_pods(&self) -> Vec<String> {
        let mut v: Vec<String> = match self.screen {
            Screen::Detail => self.pod_view.uid.clone().into_iter().collect(),
            _ => self
                .pods
                .visible
                .iter()
                .skip(self.pods.pos.offset)
                .take(self.page.max(1))
                .filter_map(|i| self.snap.pods.get(*i).map(|p| p.uid.clone()))
                .collect(),
        };
        v.sort();
        v
    }

    /// Queues the interest effect when what is on screen changed or the last one is about to lapse. The pod
    /// view asks for the pause container too (its Resources tab shows its cost and the pod's network); the
    /// table sums app containers only, so their pause containers stay on the engine's 10 s baseline.
    pub fn want_stats(&mut self) {
        let want = (self.watched_pods(), self.screen == Screen::Detail);
        let renew = INTEREST_TTL.saturating_sub(Duration::from_secs(10));
        let fresh = self
            .stats
            .asked
            .as_ref()
            .is_some_and(|(p, at)| *p == want && at.elapsed() < renew);
        if fresh {
            return;
        }
        self.stats.asked = Some((want.clone(), Instant::now()));
        let (pods, sandboxes) = want;
        self.effects.push(Effect::Engine(Request::WatchStats {
            client: "tui".into(),
            pods: Some(pods),
            sandboxes,
        }));
    }
}

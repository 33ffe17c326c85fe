//! The pod view component: one pod in tabs (containers, network, volumes, logs, events, YAML). Its state is
//! [`PodViewState`]; the tab is the app's routing (`App::tab`), and the Logs tab is the logs component. Drawn by
//! `views::detail`.

use std::sync::Arc;

use super::list::{ListPos, is_movement};
use super::{App, Screen};
use crate::engine::snapshot::PodView;
use crate::runtime::observe::{ObservedContainer, Role};
use crate::tui::action::Action;

/// The tabs of the pod view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    /// Pause container, init and app containers.
    Containers,
    /// Who owns the network namespace.
    Network,
    /// Volumes and their mounts.
    Volumes,
    /// A container's log.
    Logs,
    /// The pod's events.
    Events,
    /// The pod as `kubectl describe pod` prints it.
    Describe,
    /// The manifest as applied / the pod as podtui sees it.
    Yaml,
    /// Live CPU and memory per container, against requests and limits.
    Resources,
}

impl Tab {
    /// All tabs in order.
    pub const ALL: [Tab; 8] = [
        Tab::Containers,
        Tab::Network,
        Tab::Volumes,
        Tab::Logs,
        Tab::Events,
        Tab::Describe,
        Tab::Yaml,
        Tab::Resources,
    ];

    /// The tab's title.
    pub fn title(self) -> &'static str {
        match self {
            Tab::Containers => "Containers",
            Tab::Network => "Network",
            Tab::Volumes => "Volumes",
            Tab::Logs => "Logs",
            Tab::Events => "Events",
            Tab::Describe => "Describe",
            Tab::Yaml => "YAML",
            Tab::Resources => "Resources",
        }
    }

    fn step(self, by: isize) -> Tab {
        let i = Tab::ALL.iter().position(|t| *t == self).unwrap_or(0) as isize;
        Tab::ALL[(i + by).rem_euclid(Tab::ALL.len() as isize) as usize]
    }
}

/// A container of the selected pod, as listed in the pod view (the sandbox first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerRow {
    /// Kubernetes name (`POD` for the sandbox).
    pub name: String,
    /// Sandbox, init or app.
    pub role: Role,
}

/// The pod view's state.
#[derive(Clone, Debug)]
pub struct PodViewState {
    /// The pod shown.
    pub uid: Option<String>,
    /// Its `namespace/name`, to follow it when an edit replaces it with a new UID.
    pub last_key: Option<String>,
    /// The selected container.
    pub container_sel: usize,
    /// Scroll of the text tabs (network, volumes, events, YAML).
    pub scroll: usize,
    /// The YAML tab shows the manifest as applied (true) or the pod as podtui sees it.
    pub yaml_applied: bool,
}

impl Default for PodViewState {
    fn default() -> Self {
        Self {
            uid: None,
            last_key: None,
            container_sel: 0,
            scroll: 0,
            yaml_applied: true,
        }
    }
}

impl App {
    /// The pod of the pod view.
    pub fn detail_pod(&self) -> Option<&Arc<PodView>> {
        let uid = self.pod_view.uid.as_ref()?;
        self.snap.pods.iter().find(|p| p.uid == *uid)
    }

    /// The containers listed in the pod view: the sandbox, then init and app containers in spec order.
    pub fn container_rows(&self) -> Vec<ContainerRow> {
        let Some(p) = self.detail_pod() else {
            return Vec::new();
        };
        container_rows(p)
    }

    /// After a new snapshot: follows the pod when a new version replaced it, leaves when it is gone, and keeps the
    /// container selection and the log stream in step.
    pub(super) fn pod_view_on_snapshot(&mut self) {
        if self.detail_pod().is_none() {
            // The pod is gone (deleted, or replaced by a new version): follow the replacement by name.
            let replacement = self.pod_view.last_key.clone().and_then(|key| {
                self.snap
                    .pods
                    .iter()
                    .find(|p| p.key() == key && p.desired)
                    .cloned()
            });
            match replacement {
                Some(p) => {
                    self.say(format!("{} was replaced by a new version", p.name));
                    self.pod_view.uid = Some(p.uid.clone());
                }
                None if self.pod_view.last_key.is_some() => {
                    self.say("the pod is gone");
                    self.leave_detail();
                }
                None => {}
            }
        }
        if let Some(p) = self.detail_pod() {
            self.pod_view.last_key = Some(p.key());
        }
        self.pod_view.container_sel = self
            .pod_view
            .container_sel
            .min(self.container_rows().len().saturating_sub(1));
        if self.tab == Tab::Logs {
            self.sync_logs();
        }
    }

    /// Opens the selected pod of the table at `tab`.
    pub(super) fn open_detail(&mut self, tab: Tab) {
        let Some(p) = self.selected_pod().cloned() else {
            self.fail("no pod selected");
            return;
        };
        self.pod_view.uid = Some(p.uid.clone());
        self.pod_view.last_key = Some(p.key());
        self.screen = Screen::Detail;
        self.logs.previous = false;
        // A log opens at its end and follows, whatever the last log view was left at.
        self.logs.follow = true;
        self.pod_view.scroll = 0;
        let rows = container_rows(&p);
        self.pod_view.container_sel = rows.iter().position(|c| c.role == Role::App).unwrap_or(0);
        self.set_tab(tab);
    }

    /// `]`/`[`: the next (previous) pod of the table as it is sorted and filtered, wrapping, on the same tab.
    fn step_pod(&mut self, next: bool) {
        let len = self.pods.visible.len();
        if len == 0 {
            return;
        }
        let uid = self.pod_view.uid.clone();
        let at = self
            .pods
            .visible
            .iter()
            .position(|&i| Some(&self.snap.pods[i].uid) == uid.as_ref())
            .unwrap_or(self.pods.pos.selected);
        self.pods.pos.selected = if next {
            (at + 1) % len
        } else {
            (at + len - 1) % len
        };
        let tab = self.tab;
        self.open_detail(tab);
    }

    /// Back to the pods table.
    pub(super) fn leave_detail(&mut self) {
        self.set_tab(Tab::Containers);
        self.screen = Screen::Pods;
        self.pod_view.uid = None;
        self.pod_view.last_key = None;
    }

    /// Switches to `tab`, starting or stopping the log stream.
    pub(super) fn set_tab(&mut self, tab: Tab) {
        let was_logs = self.tab == Tab::Logs;
        self.tab = tab;
        self.pod_view.scroll = 0;
        self.find.reset();
        if tab == Tab::Logs {
            self.sync_logs();
        } else if was_logs {
            self.stop_logs();
        }
    }

    /// What `action` does in the pod view (the Logs tab hands it on to the logs component).
    pub(super) fn act_detail(&mut self, action: Action) {
        let Some(p) = self.detail_pod().cloned() else {
            self.leave_detail();
            return;
        };
        match action {
            Action::Back => return self.leave_detail(),
            Action::NextPane => return self.set_tab(self.tab.step(1)),
            Action::PrevPane => return self.set_tab(self.tab.step(-1)),
            Action::Logs => return self.set_tab(Tab::Logs),
            Action::NextPod | Action::PrevPod => return self.step_pod(action == Action::NextPod),
            Action::Yaml => return self.set_tab(Tab::Yaml),
            Action::Events => return self.set_tab(Tab::Events),
            Action::Describe => return self.set_tab(Tab::Describe),
            Action::ToggleYaml => {
                self.pod_view.yaml_applied = !self.pod_view.yaml_applied;
                self.pod_view.scroll = 0;
                self.find.reset();
                return;
            }
            _ => {}
        }
        if self.tab == Tab::Logs {
            return self.act_logs(action, &p);
        }
        if self.act_find(action) {
            return;
        }
        let rows = container_rows(&p);
        if is_movement(action) {
            let (current, len) = if self.tab == Tab::Containers {
                (self.pod_view.container_sel, rows.len())
            } else {
                (self.pod_view.scroll, usize::MAX / 2)
            };
            let mut pos = ListPos {
                selected: current,
                offset: 0,
            };
            pos.apply(action, len, self.page);
            if self.tab == Tab::Containers {
                self.pod_view.container_sel = pos.selected;
            } else {
                self.pod_view.scroll = pos.selected;
            }
            return;
        }
        let container = rows.get(self.pod_view.container_sel).cloned();
        self.act_on_pod(action, &p, container.as_ref());
    }

    /// A click at column `column` of the tab bar: opens the tab under it.
    pub(super) fn click_tabs(&mut self, column: u16) {
        let mut x = self.areas.tabs.x;
        for t in Tab::ALL {
            let w = t.title().len() as u16 + 3;
            if column >= x && column < x + w {
                self.set_tab(t);
                break;
            }
            x += w;
        }
    }

    /// A click on row `row` of the containers table: selects that container.
    pub(super) fn click_containers(&mut self, row: usize) {
        if row < self.container_rows().len() {
            self.pod_view.container_sel = row;
        }
    }
}

/// The pod's containers in the pod view's order: sandbox, init containers, app containers.
pub fn container_rows(p: &PodView) -> Vec<ContainerRow> {
    let mut rows = vec![ContainerRow {
        name: "POD".into(),
        role: Role::Sandbox,
    }];
    if let Some(spec) = p.pod.spec.as_ref() {
        for c in spec.init_containers.iter().flatten() {
            rows.push(ContainerRow {
                name: c.name.clone(),
                role: Role::Init,
            });
        }
        for c in &spec.containers {
            rows.push(ContainerRow {
                name: c.name.clone(),
                role: Role::App,
            });
        }
    } else {
        let mut names: Vec<(String, Role)> = p
            .observed
            .containers
            .iter()
            .map(|c| (c.name.clone(), c.role))
            .collect();
        names.dedup();
        rows.extend(
            names
                .into_iter()
                .map(|(name, role)| ContainerRow { name, role }),
        );
    }
    // Debug containers last, as `kubectl describe` lists ephemeral containers after the others.
    let mut ephemeral: Vec<&str> = p
        .observed
        .ephemeral
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    ephemeral.dedup();
    rows.extend(ephemeral.into_iter().map(|name| ContainerRow {
        name: name.to_string(),
        role: Role::Ephemeral,
    }));
    rows
}

/// The newest (or, with `previous`, the one before) instance of container `name` (`POD`: the sandbox).
pub fn instance<'a>(p: &'a PodView, name: &str, previous: bool) -> Option<&'a ObservedContainer> {
    let idx = usize::from(previous);
    if name == "POD" {
        p.observed.sandboxes.iter().rev().nth(idx)
    } else if let Some(i) = p.observed.instances(name).get(idx) {
        Some(*i)
    } else if previous {
        None
    } else {
        p.observed.ephemeral.iter().rfind(|e| e.name == name)
    }
}

//! The pods table component: its state (cursor, sort, filter, the visible rows) and what keys do to it, and the
//! actions on one pod that the table and the pod view share. Drawn by `views::pods`.

use std::sync::Arc;

use super::effect::Effect;
use super::filter::PodFilter;
use super::list::ListPos;
use super::modal::{Pending, PromptKind};
use super::pod_view::{ContainerRow, Tab, container_rows, instance};
use super::{App, Focus};
use crate::engine::Request;
use crate::engine::snapshot::{PodView, Snapshot};
use crate::runtime::observe::Role;
use crate::tui::action::Action;

/// Columns the pods table can be sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    /// NAME (namespace, then name).
    Name,
    /// STATUS.
    Status,
    /// RESTARTS.
    Restarts,
    /// AGE.
    Age,
    /// FILE.
    File,
    /// CPU (busiest first).
    Cpu,
    /// MEM (largest first).
    Mem,
}

impl SortKey {
    fn next(self) -> Self {
        match self {
            SortKey::Name => SortKey::Status,
            SortKey::Status => SortKey::Restarts,
            SortKey::Restarts => SortKey::Age,
            SortKey::Age => SortKey::File,
            SortKey::File => SortKey::Cpu,
            SortKey::Cpu => SortKey::Mem,
            SortKey::Mem => SortKey::Name,
        }
    }

    /// The column header it sorts.
    pub fn column(self) -> &'static str {
        match self {
            SortKey::Name => "NAME",
            SortKey::Status => "STATUS",
            SortKey::Restarts => "RESTARTS",
            SortKey::Age => "AGE",
            SortKey::File => "FILE",
            SortKey::Cpu => "CPU",
            SortKey::Mem => "MEM",
        }
    }
}

/// The pods table's state.
#[derive(Clone, Debug)]
pub struct PodsTable {
    /// Cursor and scroll.
    pub pos: ListPos,
    /// Sort column.
    pub sort: SortKey,
    /// Sort descending.
    pub reverse: bool,
    /// Filter text (see [`super::filter::PodFilter`]).
    pub filter: String,
    /// Why the filter text is not a filter (a bad label selector), shown in the table's title.
    pub filter_error: Option<String>,
    /// Indices into `snap.pods` of the visible rows, sorted and filtered.
    pub visible: Vec<usize>,
    /// The selected pod's UID (kept across snapshots).
    pub selected_uid: Option<String>,
    /// Resource use, for the CPU and MEM sorts.
    pub usage: Arc<crate::engine::stats::StatsView>,
    /// UIDs of the marked pods (space), in the order marked; kill and delete act on them.
    pub marked: Vec<String>,
}

impl Default for PodsTable {
    fn default() -> Self {
        Self {
            pos: ListPos::default(),
            sort: SortKey::Name,
            reverse: false,
            filter: String::new(),
            filter_error: None,
            visible: Vec::new(),
            selected_uid: None,
            usage: Arc::default(),
            marked: Vec::new(),
        }
    }
}

impl PodsTable {
    /// Recomputes the sorted, filtered rows of `snap` and keeps the selection on the same pod.
    pub fn refresh(&mut self, snap: &Snapshot) {
        let filter = match PodFilter::parse(&self.filter) {
            Ok(f) => {
                self.filter_error = None;
                Some(f)
            }
            Err(e) => {
                self.filter_error = Some(e);
                None
            }
        };
        let pods = &snap.pods;
        let mut idx: Vec<usize> = (0..pods.len())
            .filter(|i| {
                filter
                    .as_ref()
                    .is_some_and(|f| f.matches(&pods[*i], &snap.node_name))
            })
            .collect();
        let key = self.sort;
        let usage = self.usage.clone();
        let cpu = |p: &PodView| usage.pod(&p.uid).map(|u| u.cpu_millis());
        let mem = |p: &PodView| usage.pod(&p.uid).map(|u| u.memory_bytes());
        idx.sort_by(|a, b| {
            let (a, b) = (&pods[*a], &pods[*b]);
            let ord = match key {
                SortKey::Name => (a.namespace.as_str(), a.name.as_str())
                    .cmp(&(b.namespace.as_str(), b.name.as_str())),
                SortKey::Status => a.columns.status.cmp(&b.columns.status),
                SortKey::Restarts => a.columns.restarts.cmp(&b.columns.restarts),
                SortKey::Age => b.start_time().cmp(&a.start_time()),
                SortKey::File => a.source.cmp(&b.source),
                SortKey::Cpu => cpu(b).cmp(&cpu(a)),
                SortKey::Mem => mem(b).cmp(&mem(a)),
            };
            ord.then_with(|| a.name.cmp(&b.name))
        });
        if self.reverse {
            idx.reverse();
        }
        self.visible = idx;
        if let Some(uid) = &self.selected_uid
            && let Some(pos) = self.visible.iter().position(|i| pods[*i].uid == *uid)
        {
            self.pos.selected = pos;
        }
        self.pos.clamp(self.visible.len());
        self.selected_uid = self.selected(snap).map(|p| p.uid.clone());
        // A marked pod that is gone is no longer marked.
        self.marked
            .retain(|uid| snap.pods.iter().any(|p| p.uid == *uid));
    }

    /// Sorts by `key`; by the same key again, reverses.
    fn sort_by(&mut self, key: SortKey) {
        if self.sort == key {
            self.reverse = !self.reverse;
        } else {
            self.sort = key;
            self.reverse = false;
        }
    }

    /// Whether pod `uid` is marked.
    pub fn is_marked(&self, uid: &str) -> bool {
        self.marked.iter().any(|m| m == uid)
    }

    /// The pod under the cursor.
    pub fn selected<'a>(&self, snap: &'a Snapshot) -> Option<&'a Arc<PodView>> {
        self.visible
            .get(self.pos.selected)
            .and_then(|i| snap.pods.get(*i))
    }
}

impl App {
    /// Recomputes the sorted, filtered rows and keeps the selection on the same pod.
    pub fn refresh_visible(&mut self) {
        self.pods.refresh(&self.snap);
    }

    /// The pod under the cursor in the pods table.
    pub fn selected_pod(&self) -> Option<&Arc<PodView>> {
        self.pods.selected(&self.snap)
    }

    /// A click on row `row` of the table (from its top): selects it, or opens it when it is selected already.
    pub(super) fn click_pods(&mut self, row: usize) {
        let i = self.pods.pos.offset + row;
        if i >= self.pods.visible.len() {
            return;
        }
        self.focus = Focus::Pods;
        if self.pods.pos.selected == i {
            self.open_detail(Tab::Containers);
        } else {
            self.pods.pos.selected = i;
            self.pods.selected_uid = self.selected_pod().map(|p| p.uid.clone());
        }
    }

    /// What `action` does in the pods table.
    pub(super) fn act_pods(&mut self, action: Action) {
        let len = self.pods.visible.len();
        if self.pods.pos.apply(action, len, self.page) {
            self.pods.selected_uid = self.selected_pod().map(|p| p.uid.clone());
            return;
        }
        match action {
            Action::NextPane | Action::PrevPane => self.focus = Focus::Manifests,
            Action::Filter => self.open_prompt(PromptKind::Filter),
            Action::Back if !self.pods.marked.is_empty() => {
                self.pods.marked.clear();
                self.say("marks cleared");
            }
            Action::Back => {
                self.pods.filter.clear();
                self.refresh_visible();
            }
            Action::SortName
            | Action::SortStatus
            | Action::SortRestarts
            | Action::SortAge
            | Action::SortCpu => {
                let key = match action {
                    Action::SortName => SortKey::Name,
                    Action::SortStatus => SortKey::Status,
                    Action::SortRestarts => SortKey::Restarts,
                    Action::SortAge => SortKey::Age,
                    _ => SortKey::Cpu,
                };
                self.pods.sort_by(key);
                self.refresh_visible();
                let order = if self.pods.reverse { ", reversed" } else { "" };
                self.say(format!("sorted by {}{order}", key.column()));
            }
            Action::Mark => self.mark(),
            Action::MarkRange => self.mark_range(),
            Action::Kill | Action::Delete if !self.pods.marked.is_empty() => {
                self.act_on_marked(action)
            }
            Action::SortNext => {
                self.pods.sort = self.pods.sort.next();
                self.refresh_visible();
                self.say(format!("sorted by {}", self.pods.sort.column()));
            }
            Action::SortReverse => {
                self.pods.reverse = !self.pods.reverse;
                self.refresh_visible();
            }
            Action::Open => self.open_detail(Tab::Containers),
            Action::Describe => self.open_detail(Tab::Describe),
            Action::Logs => self.open_detail(Tab::Logs),
            Action::Yaml => self.open_detail(Tab::Yaml),
            Action::Events => self.open_detail(Tab::Events),
            Action::New => self.open_prompt(PromptKind::NewFile),
            Action::Undelete => self
                .effects
                .push(Effect::Engine(Request::RestoreManifest { id: None })),
            _ => {
                let Some(p) = self.selected_pod().cloned() else {
                    self.fail("no pod selected");
                    return;
                };
                self.act_on_pod(action, &p, None);
            }
        }
    }

    /// Actions on a pod (from the table or the pod view); `container` is the selected container, if any.
    pub(super) fn act_on_pod(
        &mut self,
        action: Action,
        p: &PodView,
        container: Option<&ContainerRow>,
    ) {
        match action {
            Action::Edit if self.cfg.external_editor => self.edit_external(&p.source),
            Action::Edit => self.edit_file(&p.source),
            Action::EditExternal => self.edit_external(&p.source),
            Action::Kill if p.terminating.is_some() => {
                let running = p.observed.all().filter(|i| i.state.is_running()).count();
                self.ask(
                    format!(
                        "Force-kill {} now? It is terminating; its {running} running container(s) get SIGKILL instead of the rest of their grace period (kubectl delete --grace-period=0 --force).",
                        p.name
                    ),
                    Pending::Kill { uid: p.uid.clone() },
                );
            }
            Action::Kill => {
                let running = p.observed.all().filter(|i| i.state.is_running()).count();
                self.ask(
                    format!(
                        "Kill the {running} running container(s) of {} (SIGKILL, the pause container too)?\npodtui brings the pod back per its restartPolicy ({}).",
                        p.name,
                        p.pod
                            .spec
                            .as_ref()
                            .and_then(|s| s.restart_policy.clone())
                            .unwrap_or_else(|| "Always".into())
                    ),
                    Pending::Kill { uid: p.uid.clone() },
                );
            }
            Action::Delete => {
                if p.source.contains("://") || p.source.is_empty() {
                    self.fail("this pod does not come from a file in the watched directory");
                    return;
                }
                self.ask_delete(&p.source);
            }
            Action::Restart => {
                if container.is_some_and(|c| c.role == Role::Ephemeral) {
                    self.fail("a debug (ephemeral) container is never restarted; exit its shell to remove it");
                    return;
                }
                let Some(c) = container.filter(|c| c.role != Role::Sandbox) else {
                    self.fail("select an init or app container to restart (the pause container restarts the whole pod: ctrl-k)");
                    return;
                };
                self.ask(
                    format!(
                        "Restart container {} of {}?\nIt is stopped with the pod's grace period and started again at once.",
                        c.name, p.name
                    ),
                    Pending::Restart {
                        uid: p.uid.clone(),
                        container: c.name.clone(),
                    },
                );
            }
            Action::Shell => {
                let target = match container {
                    Some(c) => Some(c.clone()),
                    None => container_rows(p).into_iter().find(|c| c.role == Role::App),
                };
                let Some(c) = target else {
                    self.fail("the pod has no container");
                    return;
                };
                if c.role == Role::Sandbox {
                    self.fail("the pause container has no shell (it is a single static binary)");
                    return;
                }
                match instance(p, &c.name, false) {
                    Some(i) if i.state.is_running() => self.effects.push(Effect::Shell {
                        container_id: i.id.clone(),
                        title: format!("{}/{}", p.name, c.name),
                    }),
                    _ => self.fail(format!("container {} is not running", c.name)),
                }
            }
            Action::Debug => {
                // The selected container's processes; from the pods table, the first app container's (as `s`).
                let target = match container {
                    Some(c) => Some(c.clone()),
                    None => container_rows(p).into_iter().find(|c| c.role == Role::App),
                }
                .filter(|c| matches!(c.role, Role::Init | Role::App))
                .map(|c| c.name);
                self.effects.push(Effect::Debug {
                    pod: crate::forward::target::PodRef {
                        node: self.cfg.node.clone(),
                        namespace: p.namespace.clone(),
                        name: p.name.clone(),
                    },
                    target,
                    image: self.cfg.debug_image.clone(),
                });
            }
            Action::PortForward => self.ask_forward(p, container),
            _ => {}
        }
    }
}

//! Port-forwards from the UI: `F` on a pod (or a container) asks `local:remote` — the container's first port
//! by default, the same local port when it is free — and the loop starts the forward (see [`crate::forward`]);
//! `:pf` lists the running ones (k9s' port-forward view), where ctrl-d stops the selected one.
//! The forwards themselves live in the loop; the app keeps what it shows of them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::effect::Effect;
use super::modal::{Modal, Prompt, PromptKind};
use super::pod_view::ContainerRow;
use super::{App, Screen};
use crate::engine::snapshot::PodView;
use crate::forward::target::PodRef;
use crate::forward::{Counters, PortPair};
use crate::runtime::observe::Role;
use crate::tui::action::Action;

/// What the UI shows of one running forward.
#[derive(Clone, Debug)]
pub struct ForwardView {
    /// The loop's ID for it.
    pub id: u64,
    /// The pod, `namespace/name`.
    pub pod: String,
    /// Where it listens.
    pub local: SocketAddr,
    /// The pod's port.
    pub remote: u16,
    /// Its live counters.
    pub counters: Arc<Counters>,
}

impl ForwardView {
    /// Connections open now and in all.
    pub fn connections(&self) -> (usize, u64) {
        (
            self.counters.active.load(Ordering::Relaxed),
            self.counters.total.load(Ordering::Relaxed),
        )
    }
}

/// The `:pf` screen's state and the forward being asked for.
#[derive(Clone, Debug, Default)]
pub struct Forwards {
    /// The running forwards, oldest first.
    pub list: Vec<ForwardView>,
    /// The `:pf` list position.
    pub pos: super::list::ListPos,
    /// The pod the open `F` prompt is for.
    pub asking: Option<PodRef>,
}

/// The port `F` proposes: the selected container's first declared port, else the pod's first.
pub fn default_port(p: &PodView, container: Option<&ContainerRow>) -> Option<u16> {
    let spec = p.pod.spec.as_ref()?;
    let ports = |c: &k8s_openapi::api::core::v1::Container| {
        c.ports
            .iter()
            .flatten()
            .filter(|p| p.protocol.as_deref().unwrap_or("TCP") == "TCP")
            .filter_map(|p| u16::try_from(p.container_port).ok())
            .next()
    };
    let selected = container
        .filter(|c| c.role == Role::App)
        .and_then(|c| spec.containers.iter().find(|x| x.name == c.name))
        .and_then(ports);
    selected.or_else(|| spec.containers.iter().find_map(ports))
}

/// `local:remote` for `port`: the same local port when it can be bound on 127.0.0.1, else any free one.
fn default_pair(port: u16) -> String {
    if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
        format!("{port}:{port}")
    } else {
        format!(":{port}")
    }
}

impl App {
    /// `F`: asks `local:remote` for a forward to `p`.
    pub(super) fn ask_forward(&mut self, p: &PodView, container: Option<&ContainerRow>) {
        let input = default_port(p, container)
            .map(default_pair)
            .unwrap_or_default();
        self.forwards.asking = Some(PodRef {
            node: self.cfg.node.clone(),
            namespace: p.namespace.clone(),
            name: p.name.clone(),
        });
        self.modals.push(Modal::Prompt(Prompt {
            kind: PromptKind::Forward,
            input,
            history: None,
        }));
    }

    /// The `F` prompt's answer: `[LOCAL:]REMOTE`.
    pub(super) fn submit_forward(&mut self, input: &str) {
        let Some(pod) = self.forwards.asking.take() else {
            return;
        };
        match input.parse::<PortPair>() {
            Ok(pair) => self.effects.push(Effect::Forward { pod, pair }),
            Err(e) => self.fail(format!("port-forward: {e}")),
        }
    }

    /// A forward started (or could not).
    pub(super) fn on_forward_started(&mut self, started: Result<ForwardView, String>) {
        match started {
            Ok(f) => {
                self.say(format!(
                    "forwarding {} -> {}:{} (it follows the pod across restarts; :pf lists forwards)",
                    f.local, f.pod, f.remote
                ));
                self.forwards.list.push(f);
            }
            Err(e) => self.fail(format!("port-forward: {e}")),
        }
    }

    /// What `action` does on the `:pf` screen.
    pub(super) fn act_forwards(&mut self, action: Action) {
        let len = self.forwards.list.len();
        if self.forwards.pos.apply(action, len, self.page) {
            return;
        }
        match action {
            Action::Back => self.screen = Screen::Pods,
            Action::Delete => {
                let Some(f) = self.forwards.list.get(self.forwards.pos.selected).cloned() else {
                    self.fail("no forward selected");
                    return;
                };
                self.forwards.list.retain(|x| x.id != f.id);
                self.forwards.pos.clamp(self.forwards.list.len());
                self.effects.push(Effect::StopForward { id: f.id });
                self.say(format!(
                    "stopped forwarding {} -> {}:{}",
                    f.local, f.pod, f.remote
                ));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::tui::app::test_app;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn view(id: u64, port: u16) -> ForwardView {
        ForwardView {
            id,
            pod: "default/web-demo".into(),
            local: SocketAddr::from(([127, 0, 0, 1], port)),
            remote: 80,
            counters: Arc::default(),
        }
    }

    #[test]
    fn the_prompt_answer_becomes_a_forward_of_the_pod_asked_for() {
        let mut a = test_app();
        let pod = PodRef {
            node: "demo".into(),
            namespace: "default".into(),
            name: "web-demo".into(),
        };
        a.forwards.asking = Some(pod.clone());
        a.modals.push(Modal::Prompt(Prompt {
            kind: PromptKind::Forward,
            input: String::new(),
            history: None,
        }));
        for c in "18080:80".chars() {
            a.on_key(key(KeyCode::Char(c)));
        }
        a.on_key(key(KeyCode::Enter));
        assert_eq!(
            a.take_effects(),
            [Effect::Forward {
                pod,
                pair: PortPair {
                    local: 18080,
                    remote: 80
                }
            }]
        );
        assert!(a.forwards.asking.is_none());
    }

    #[test]
    fn a_bad_pair_says_why_and_starts_nothing() {
        let mut a = test_app();
        a.forwards.asking = Some(PodRef::parse("web", "demo"));
        a.submit_forward("80:http");
        assert!(a.take_effects().is_empty());
        let m = a.message.clone().unwrap();
        assert!(m.error && m.text.contains("not a port number"), "{m:?}");
    }

    #[test]
    fn pf_lists_forwards_and_ctrl_d_stops_the_selected_one() {
        let mut a = test_app();
        a.on_forward_started(Ok(view(1, 18080)));
        a.on_forward_started(Ok(view(2, 18081)));
        for c in ":pf".chars() {
            a.on_key(key(KeyCode::Char(c)));
        }
        a.on_key(key(KeyCode::Enter));
        assert_eq!(a.screen, Screen::Forwards);
        a.on_key(key(KeyCode::Char('j')));
        a.on_key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL));
        assert_eq!(a.take_effects(), [Effect::StopForward { id: 2 }]);
        assert_eq!(a.forwards.list.len(), 1);
        assert_eq!(a.forwards.list[0].id, 1);
        a.on_key(key(KeyCode::Esc));
        assert_eq!(a.screen, Screen::Pods);
    }
}

//! Everything a key (or the command prompt, or a mouse click) can ask the UI to do.

use serde::{Deserialize, Serialize};

/// A user intent. The keymap maps keys to these, per mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Quit; pods keep running.
    Quit,
    /// Quit and terminate every pod (asks first).
    QuitAll,
    /// Show the keys of the current view.
    Help,
    /// Open the `:` command prompt (`command` in the config file).
    #[serde(rename = "command")]
    CommandPrompt,
    /// Filter the list (`/`), or search the log.
    Filter,
    /// Move up.
    Up,
    /// Move down.
    Down,
    /// One page up.
    PageUp,
    /// One page down.
    PageDown,
    /// To the top.
    Top,
    /// To the bottom.
    Bottom,
    /// Open the selected item.
    Open,
    /// Go back / close.
    Back,
    /// Next pane or tab.
    NextPane,
    /// Previous pane or tab.
    PrevPane,
    /// The pod's logs.
    Logs,
    /// The pod as `kubectl describe pod` prints it.
    Describe,
    /// The pod's YAML.
    Yaml,
    /// The pod's events.
    Events,
    /// Edit the manifest in the built-in editor.
    Edit,
    /// Edit the manifest in $VISUAL / $EDITOR.
    EditExternal,
    /// New manifest from a template.
    New,
    /// Kill the pod's containers (asks first).
    Kill,
    /// Delete the manifest: to the trash (asks first).
    Delete,
    /// Restore the last deleted manifest.
    Undelete,
    /// Restart the selected container (asks first).
    Restart,
    /// Shell into the selected container.
    Shell,
    /// Start a debug container in the pod (sharing the selected container's processes) and open a shell in it.
    Debug,
    /// Forward a local port to the pod (asks `local:remote`).
    PortForward,
    /// Sort by the next column.
    SortNext,
    /// Sort by NAME (again: reverse), k9s' shift-n.
    SortName,
    /// Sort by STATUS (again: reverse), k9s' shift-s.
    SortStatus,
    /// Sort by RESTARTS (again: reverse), k9s' shift-t.
    SortRestarts,
    /// Sort by AGE (again: reverse), k9s' shift-a.
    SortAge,
    /// Sort by CPU (again: reverse), k9s' shift-c.
    SortCpu,
    /// Mark or unmark the selected pod (kill and delete then act on the marked pods), k9s' space.
    Mark,
    /// Mark every pod from the last marked one to the cursor, k9s' ctrl-space.
    MarkRange,
    /// Reverse the sort.
    SortReverse,
    /// Mouse capture on/off (off lets the terminal select text).
    ToggleMouse,
    /// Logs: follow on/off.
    Follow,
    /// Logs: wrap on/off.
    Wrap,
    /// Logs: timestamps on/off.
    Timestamps,
    /// Logs: next search match.
    SearchNext,
    /// Logs: previous search match.
    SearchPrev,
    /// Logs: the previous (exited) instance.
    Previous,
    /// Logs: save to a file.
    SaveLogs,
    /// Logs / containers: next container.
    NextContainer,
    /// YAML: switch between the manifest as applied and the pod as podtui sees it.
    ToggleYaml,
    /// Logs with wrap off: scroll right.
    ScrollRight,
    /// Logs with wrap off: scroll left.
    ScrollLeft,
    /// Pod view: the next pod of the table, on the same tab.
    NextPod,
    /// Pod view: the previous pod of the table, on the same tab.
    PrevPod,
}

impl Action {
    /// The action's name in the config file (`kill`, `quit-all`).
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

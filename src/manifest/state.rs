//! The desired state all sources add up to: the set of pods to run (kubelet's SET semantics) and a status for
//! every manifest file, with conflicts resolved so that the first file (in lexical order) owns a pod name.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::finding::Finding;
use super::parse::DesiredPod;

/// What became of one manifest file (or URL).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum FileState {
    /// Seen, not read yet (a save is settling).
    Pending,
    /// Read and valid; its pods are desired.
    Applied,
    /// The latest version has errors. `stale`: an earlier good version's pods keep running.
    Invalid {
        /// True when the pods of the last good version are still desired (and running).
        stale: bool,
    },
    /// Not a manifest.
    Skipped {
        /// Why it is not read.
        reason: String,
    },
    /// Valid, but at least one of its pods is already defined by an earlier file.
    Conflict,
}

impl FileState {
    /// A short word for tables: applied, invalid, skipped, conflict, pending.
    pub fn label(&self) -> &'static str {
        match self {
            FileState::Pending => "pending",
            FileState::Applied => "applied",
            FileState::Invalid { .. } => "invalid",
            FileState::Skipped { .. } => "skipped",
            FileState::Conflict => "conflict",
        }
    }
}

/// A pod a file defines that another file already owns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// `namespace/name` of the pod.
    pub pod: String,
    /// The file that owns it.
    pub owner: String,
}

/// The status of one manifest file or URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStatus {
    /// The path as shown to the user (or the URL).
    pub path: String,
    /// Applied, invalid, skipped, conflict or pending.
    #[serde(flatten)]
    pub state: FileState,
    /// Errors and warnings of the latest version read.
    pub findings: Vec<Finding>,
    /// `namespace/name` of the pods this file makes desired (for an invalid file: of its last good version).
    pub pods: Vec<String>,
    /// Pods it defines that an earlier file owns.
    pub conflicts: Vec<Conflict>,
}

impl FileStatus {
    /// A status with no findings or pods.
    pub fn new(path: impl Into<String>, state: FileState) -> Self {
        Self {
            path: path.into(),
            state,
            findings: Vec::new(),
            pods: Vec::new(),
            conflicts: Vec::new(),
        }
    }
}

/// What one source knows about one of its entries, before conflicts are resolved.
#[derive(Clone, Debug)]
pub struct EntryReport {
    /// Path or URL as shown.
    pub path: String,
    /// `Pending`, `Skipped`, or the result of the latest read.
    pub kind: EntryKind,
}

/// The result of reading an entry.
#[derive(Clone, Debug)]
pub enum EntryKind {
    /// Not read yet.
    Pending,
    /// Not a manifest.
    Skipped(String),
    /// Read: the findings of the latest version, and the pods to run (the latest version's if it is valid,
    /// else the last good version's).
    Read {
        /// Findings of the latest version.
        findings: Vec<Finding>,
        /// True when the latest version has errors.
        invalid: bool,
        /// Pods to run from this entry.
        pods: Vec<Arc<DesiredPod>>,
    },
}

/// The whole desired state, as published to the engine.
#[derive(Clone, Debug, Default)]
pub struct DesiredState {
    /// Desired pods by UID.
    pub pods: BTreeMap<String, Arc<DesiredPod>>,
    /// Every entry of every source, in source order (files lexically, then the URL).
    pub files: Vec<FileStatus>,
    /// True once every source has been read successfully at least once (pods not desired may then be removed).
    pub synced: bool,
}

impl DesiredState {
    /// Builds the state from the entries of all sources, in order. A pod belongs to the entry that owned it in
    /// `previous` (the state this one follows) while that entry still defines it: a newcomer defining the same
    /// pod is the conflict, even when it sorts first (a copy of a file must not replace the running pod). A pod
    /// no entry owned before belongs to the first entry that defines it.
    pub fn assemble(
        entries: &[EntryReport],
        synced: bool,
        previous: Option<&DesiredState>,
    ) -> Self {
        let defines: BTreeSet<(&str, String)> = entries
            .iter()
            .filter_map(|e| match &e.kind {
                EntryKind::Read { pods, .. } => Some((e, pods)),
                _ => None,
            })
            .flat_map(|(e, pods)| pods.iter().map(|p| (e.path.as_str(), p.key())))
            .collect();
        let mut owners: BTreeMap<String, String> = previous
            .into_iter()
            .flat_map(|prev| &prev.files)
            .flat_map(|f| f.pods.iter().map(|key| (key.clone(), f.path.clone())))
            .filter(|(key, path)| defines.contains(&(path.as_str(), key.clone())))
            .collect();
        // Pods given to an entry in this state: a second document of the same file defining one is a conflict.
        let mut taken: BTreeSet<String> = BTreeSet::new();
        let mut state = DesiredState {
            synced,
            ..Default::default()
        };
        for e in entries {
            let status = match &e.kind {
                EntryKind::Pending => FileStatus::new(&e.path, FileState::Pending),
                EntryKind::Skipped(reason) => FileStatus::new(
                    &e.path,
                    FileState::Skipped {
                        reason: reason.clone(),
                    },
                ),
                EntryKind::Read {
                    findings,
                    invalid,
                    pods,
                } => {
                    let mut st = FileStatus::new(&e.path, FileState::Applied);
                    st.findings = findings.clone();
                    for pod in pods {
                        let key = pod.key();
                        let owner = owners
                            .entry(key.clone())
                            .or_insert_with(|| e.path.clone())
                            .clone();
                        if owner != e.path || !taken.insert(key.clone()) {
                            // Another entry owns it, or this file defines it twice (two documents): the
                            // first wins.
                            st.conflicts.push(Conflict { pod: key, owner });
                        } else {
                            st.pods.push(key);
                            state.pods.insert(pod.uid.clone(), pod.clone());
                        }
                    }
                    st.state = if *invalid {
                        FileState::Invalid {
                            stale: !pods.is_empty(),
                        }
                    } else if !st.conflicts.is_empty() {
                        FileState::Conflict
                    } else {
                        FileState::Applied
                    };
                    st
                }
            };
            state.files.push(status);
        }
        state
    }

    /// Looks up a desired pod by `namespace/name`.
    pub fn pod_by_key(&self, key: &str) -> Option<&Arc<DesiredPod>> {
        self.pods.values().find(|p| p.key() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Format, ParseInput, SourceId, parse_manifest};

    fn pods(file: &str, names: &[&str]) -> Vec<Arc<DesiredPod>> {
        names
            .iter()
            .flat_map(|n| {
                let text = format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: {n}}}\nspec: {{containers: [{{name: c, image: 'i:1'}}]}}\n");
                parse_manifest(&ParseInput {
                    display: file,
                    text: &text,
                    format: Format::Yaml,
                    node_name: "n",
                    source: &SourceId::File(file.into()),
                })
                .pods
            })
            .map(Arc::new)
            .collect()
    }

    fn read(path: &str, names: &[&str], invalid: bool) -> EntryReport {
        EntryReport {
            path: path.into(),
            kind: EntryKind::Read {
                findings: vec![],
                invalid,
                pods: pods(path, names),
            },
        }
    }

    #[test]
    fn first_file_wins_and_others_conflict() {
        let s = DesiredState::assemble(
            &[
                read("a.yaml", &["web"], false),
                read("b.yaml", &["web", "db"], false),
            ],
            true,
            None,
        );
        assert_eq!(s.pods.len(), 2);
        assert_eq!(s.files[0].state, FileState::Applied);
        assert_eq!(s.files[1].state, FileState::Conflict);
        assert_eq!(
            s.files[1].conflicts,
            vec![Conflict {
                pod: "default/web-n".into(),
                owner: "a.yaml".into()
            }]
        );
        assert_eq!(s.files[1].pods, vec!["default/db-n".to_string()]);
        // The winner's UID is the one from a.yaml.
        let web = s.pod_by_key("default/web-n").unwrap();
        assert_eq!(web.source, "a.yaml");
    }

    #[test]
    fn invalid_file_keeps_last_good_pods_as_stale() {
        let s = DesiredState::assemble(&[read("a.yaml", &["web"], true)], true, None);
        assert_eq!(s.pods.len(), 1);
        assert_eq!(s.files[0].state, FileState::Invalid { stale: true });
        let fresh = DesiredState::assemble(&[read("a.yaml", &[], true)], true, None);
        assert_eq!(fresh.files[0].state, FileState::Invalid { stale: false });
    }

    /// Issue 15, item 19: `b.yaml` runs `web` (its last good version: it is invalid now); a copy sorting first
    /// (`a-copy.yaml`) appears, and then both are fixed. The running pod stays `b.yaml`'s; the copy is the
    /// conflict. Once `b.yaml` stops defining it, the copy takes it over.
    #[test]
    fn the_entry_that_owns_a_pod_keeps_it_against_a_newcomer_that_sorts_first() {
        let running = DesiredState::assemble(&[read("b.yaml", &["web"], true)], true, None);
        let copied = DesiredState::assemble(
            &[
                read("a-copy.yaml", &[], true),
                read("b.yaml", &["web"], true),
            ],
            true,
            Some(&running),
        );
        let fixed = DesiredState::assemble(
            &[
                read("a-copy.yaml", &["web"], false),
                read("b.yaml", &["web"], false),
            ],
            true,
            Some(&copied),
        );
        assert_eq!(fixed.pod_by_key("default/web-n").unwrap().source, "b.yaml");
        assert_eq!(fixed.files[0].state, FileState::Conflict);
        assert_eq!(
            fixed.files[0].conflicts,
            vec![Conflict {
                pod: "default/web-n".into(),
                owner: "b.yaml".into()
            }]
        );
        assert_eq!(fixed.files[1].state, FileState::Applied);
        // Without a history (a fresh start) the first file wins, as before.
        let fresh = DesiredState::assemble(
            &[
                read("a-copy.yaml", &["web"], false),
                read("b.yaml", &["web"], false),
            ],
            true,
            None,
        );
        assert_eq!(
            fresh.pod_by_key("default/web-n").unwrap().source,
            "a-copy.yaml"
        );
        // The owner stops defining it: the newcomer takes it over.
        let moved = DesiredState::assemble(
            &[
                read("a-copy.yaml", &["web"], false),
                read("b.yaml", &[], false),
            ],
            true,
            Some(&fixed),
        );
        assert_eq!(
            moved.pod_by_key("default/web-n").unwrap().source,
            "a-copy.yaml"
        );
        assert_eq!(moved.files[0].state, FileState::Applied);
    }
}

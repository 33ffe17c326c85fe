//! The desired state all sources add up to: the set of pods to run (kubelet's SET semantics) and a status for
//! every manifest file, with conflicts resolved so that the first file (in lexical order) owns a pod name.

use std::collections::BTreeMap;
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
    /// Builds the state from the entries of all sources, in order; the first entry to define a pod owns it.
    pub fn assemble(entries: &[EntryReport], synced: bool) -> Self {
        let mut owners: BTreeMap<String, String> = BTreeMap::new();
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
                        match owners.get(&key) {
                            Some(owner) if owner != &e.path => st.conflicts.push(Conflict {
                                pod: key,
                                owner: owner.clone(),
                            }),
                            Some(_) => {
                                // The same file defines the pod twice (two documents): the first wins.
                                st.conflicts.push(Conflict {
                                    pod: key,
                                    owner: e.path.clone(),
                                });
                            }
                            None => {
                                owners.insert(key.clone(), e.path.clone());
                                st.pods.push(key);
                                state.pods.insert(pod.uid.clone(), pod.clone());
                            }
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
        let s = DesiredState::assemble(&[read("a.yaml", &["web"], true)], true);
        assert_eq!(s.pods.len(), 1);
        assert_eq!(s.files[0].state, FileState::Invalid { stale: true });
        let fresh = DesiredState::assemble(&[read("a.yaml", &[], true)], true);
        assert_eq!(fresh.files[0].state, FileState::Invalid { stale: false });
    }
}

//! What a hub's snapshot says, indexed: for the headless commands on a hub.

use std::collections::{BTreeMap, HashMap};

use super::Snapshot;
use crate::model::{Described, NameKind, OperationKind, Status, StatusSummary};
use crate::poller::Event;

/// What a snapshot says about each request: its latest summary, its detail when described.
pub struct Known {
    pub summaries: BTreeMap<(OperationKind, String), StatusSummary>,
    pub described: HashMap<(OperationKind, String), Described>,
    pub names: HashMap<(NameKind, String), String>,
}

impl Known {
    pub fn of(snapshot: Snapshot) -> Known {
        let mut known = Known {
            summaries: BTreeMap::new(),
            described: HashMap::new(),
            names: HashMap::new(),
        };
        for event in snapshot.events {
            match event {
                Event::Cached(all) => {
                    for d in all {
                        known.described_one(d);
                    }
                }
                Event::Described(d) => known.described_one(*d),
                Event::Records { items, .. } => {
                    for s in items {
                        known.summaries.insert((s.kind, s.request_id.clone()), s);
                    }
                }
                Event::Name { kind, id, name } => {
                    known.names.insert((kind, id), name);
                }
                _ => {}
            }
        }
        for d in known.described.values_mut() {
            let named: Vec<(NameKind, String)> = d
                .detail
                .named_ids()
                .into_iter()
                .map(|(kind, id)| (kind, id.to_string()))
                .collect();
            for (kind, id) in named {
                if let Some(name) = known.names.get(&(kind, id.clone())) {
                    d.detail.set_name(kind, &id, name);
                }
            }
        }
        known
    }

    fn described_one(&mut self, d: Described) {
        let key = (d.summary.kind, d.summary.request_id.clone());
        self.summaries
            .entry(key.clone())
            .or_insert(d.summary.clone());
        self.described.insert(key, d);
    }

    /// The asked kinds' requests (of one status, if asked), newest first, as `list` orders
    /// them.
    pub fn rows(&self, kinds: &[OperationKind], status: Option<&Status>) -> Vec<StatusSummary> {
        let mut rows: Vec<StatusSummary> = self
            .summaries
            .values()
            .filter(|s| kinds.contains(&s.kind) && status.is_none_or(|st| &s.status == st))
            .cloned()
            .collect();
        rows.sort_by(|a, b| {
            b.created
                .cmp(&a.created)
                .then_with(|| a.request_id.cmp(&b.request_id))
        });
        rows
    }
}

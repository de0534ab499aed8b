//! The knowledge graph: services, templates, replicas, fault signatures and the incident
//! as nodes with typed edges (`calls`, `logs`, `runs_on`, `matches`, `implicates`,
//! `affects`), exported with the report; and the memory of past incidents kept in the
//! state directory (`incidents.json`), so a later run can say an incident was seen
//! before.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Rca, RcaError};

/// Past incidents kept at most.
pub const MAX_INCIDENTS: usize = 1000;
/// The file in the state directory.
pub const FILE: &str = "incidents.json";
/// Version of the file's format.
pub const VERSION: u32 = 1;

/// A node of the knowledge graph.
#[derive(Debug, Clone, Serialize)]
pub struct KnowledgeNode {
    /// Unique id: `service:NAME`, `template:ID`, `replica:NAME`, `signature:CATEGORY`,
    /// `incident:START`.
    pub id: String,
    /// `service`, `template`, `replica`, `signature` or `incident`.
    pub kind: &'static str,
    /// What a reader sees.
    pub label: String,
}

/// A typed edge.
#[derive(Debug, Clone, Serialize)]
pub struct KnowledgeEdge {
    /// Source id.
    pub from: String,
    /// Target id.
    pub to: String,
    /// `calls`, `logs`, `runs_on`, `matches`, `implicates` or `affects`.
    pub kind: &'static str,
}

/// The knowledge graph of one analysis.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KnowledgeGraph {
    /// Nodes.
    pub nodes: Vec<KnowledgeNode>,
    /// Edges.
    pub edges: Vec<KnowledgeEdge>,
}

impl KnowledgeGraph {
    /// Adds a node once.
    pub fn node(&mut self, id: String, kind: &'static str, label: String) -> String {
        if !self.nodes.iter().any(|n| n.id == id) {
            self.nodes.push(KnowledgeNode {
                id: id.clone(),
                kind,
                label,
            });
        }
        id
    }

    /// Adds an edge once.
    pub fn edge(&mut self, from: &str, to: &str, kind: &'static str) {
        if !self
            .edges
            .iter()
            .any(|e| e.from == from && e.to == to && e.kind == kind)
        {
            self.edges.push(KnowledgeEdge {
                from: from.into(),
                to: to.into(),
                kind,
            });
        }
    }
}

/// One remembered incident.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PastIncident {
    /// Onset of the root cause (RFC 3339).
    pub at: String,
    /// Root-cause service.
    pub service: String,
    /// Category.
    pub category: String,
    /// Template ids of the root cause's evidence.
    #[serde(default)]
    pub templates: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Memory {
    version: u32,
    incidents: Vec<PastIncident>,
}

/// What the memory says about this incident.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SeenBefore {
    /// Earlier incidents with the same root-cause service and category.
    pub count: usize,
    /// The latest of them (RFC 3339).
    pub last: String,
}

fn load(path: &Path) -> Result<Memory, RcaError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| RcaError::State {
            path: path.display().to_string(),
            reason: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Memory {
            version: VERSION,
            incidents: Vec::new(),
        }),
        Err(e) => Err(RcaError::io(path, e)),
    }
}

/// Looks this incident up in the state directory's memory, sets `rca.seen_before`, and
/// remembers it (re-analysing the same incident does not count it twice). The file is
/// replaced whole.
pub fn remember(dir: &Path, rca: &mut Rca, template_ids: Vec<String>) -> Result<(), RcaError> {
    let Some(top) = rca.candidates.first() else {
        return Ok(());
    };
    let path = dir.join(FILE);
    let mut memory = load(&path)?;
    let at = top.onset.clone().unwrap_or_default();
    let category = top.category.to_string();
    let earlier: Vec<&PastIncident> = memory
        .incidents
        .iter()
        .filter(|p| p.service == top.service && p.category == category && p.at != at)
        .collect();
    rca.seen_before = earlier
        .iter()
        .map(|p| p.at.clone())
        .max()
        .map(|last| SeenBefore {
            count: earlier.len(),
            last,
        });
    if memory
        .incidents
        .iter()
        .any(|p| p.at == at && p.service == top.service)
    {
        return Ok(());
    }
    memory.incidents.push(PastIncident {
        at,
        service: top.service.clone(),
        category,
        templates: template_ids,
    });
    if memory.incidents.len() > MAX_INCIDENTS {
        let extra = memory.incidents.len() - MAX_INCIDENTS;
        memory.incidents.drain(..extra);
    }
    memory.version = VERSION;
    std::fs::create_dir_all(dir).map_err(|e| RcaError::io(dir, e))?;
    let bytes = serde_json::to_vec_pretty(&memory).map_err(|e| RcaError::State {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let tmp = dir.join(format!("{FILE}.tmp"));
    std::fs::write(&tmp, bytes).map_err(|e| RcaError::io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| RcaError::io(&path, e))
}

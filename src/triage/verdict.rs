//! What triage concludes about a group, as types: the model's answer ([`Verdict`]; the
//! short [`ScreenVerdict`] of tiered triage), how it was made ([`VerdictMeta`]), and the
//! JSON schemas the engine decodes them under. The schemas are built here from these
//! types, in one place: enum values come from the enums themselves, and a test holds the
//! schemas' fields to the types' fields, so the schema, the parser and the reports read
//! the same shape.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::logs::level::Level;
use crate::rca::Category as FaultCategory;

/// Longest summary, in characters (within the 200 the report format allows).
pub const SUMMARY_CHARS: usize = 160;
/// Longest root cause (within 400).
pub const ROOT_CAUSE_CHARS: usize = 240;
/// Remediation steps at most (within 5).
pub const MAX_STEPS: usize = 3;
/// Longest remediation step.
pub const STEP_CHARS: usize = 100;

/// An enum whose values are written as fixed strings in verdicts and schemas: the one
/// place each name is spelled.
macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(into = "&'static str", try_from = "String")]
        pub enum $name {
            $($(#[$vm])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The value as verdicts and schemas write it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl From<$name> for &'static str {
            fn from(v: $name) -> Self {
                v.as_str()
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| format!("unknown {} {s:?}", stringify!($name)))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum! {
    /// How urgent a problem is, most severe first.
    Severity {
        /// Act now.
        Critical = "critical",
        /// Act soon.
        High = "high",
        /// Worth a look.
        Medium = "medium",
        /// Not worth waking anyone.
        Low = "low",
    }
}

named_enum! {
    /// What kind of problem it is.
    Category {
        /// A database.
        Database = "database",
        /// The network.
        Network = "network",
        /// Disks and object stores.
        Storage = "storage",
        /// Credentials and authorisation.
        CredentialsAuth = "credentials/auth",
        /// Memory, connections, quotas running out.
        ResourceExhaustion = "resource exhaustion",
        /// Configuration.
        Configuration = "configuration",
        /// A dependency.
        Dependency = "dependency",
        /// A bug in the application.
        ApplicationBug = "application bug",
        /// Hardware.
        Hardware = "hardware",
        /// Not known.
        Unknown = "unknown",
    }
}

named_enum! {
    /// Which question of tiered triage had the last word.
    Tier {
        /// The detailed verdict.
        Detail = "detail",
        /// The screening answer (the group was dismissed without a detailed verdict).
        Screen = "screen",
    }
}

impl Severity {
    /// Critical or high: its remediation steps are action items.
    pub fn is_urgent(self) -> bool {
        matches!(self, Severity::Critical | Severity::High)
    }

    /// The severity the detectors' own verdict gives records of `level`.
    pub fn of_level(level: Level) -> Self {
        match level {
            Level::Critical => Severity::Critical,
            Level::Error => Severity::High,
            Level::Warn => Severity::Medium,
            _ => Severity::Low,
        }
    }
}

/// The verdict on one group: the model's detailed answer, or the detectors' own when the
/// answer was unusable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Whether it is a real problem.
    pub is_anomaly: bool,
    /// How urgent.
    pub severity: Severity,
    /// What kind.
    pub category: Category,
    /// One sentence.
    pub summary: String,
    /// The probable root cause (empty when not known).
    pub root_cause: String,
    /// Components concerned, among those shown.
    pub affected_components: Vec<String>,
    /// Up to [`MAX_STEPS`] steps.
    pub remediation_steps: Vec<String>,
    /// Ids of the lines shown that support it.
    pub evidence_line_ids: Vec<String>,
    /// 0 to 1 in steps of 0.05.
    pub confidence: f64,
}

/// The short answer of tiered triage's first question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreenVerdict {
    /// Whether it is a real problem.
    pub is_anomaly: bool,
    /// How urgent.
    pub severity: Severity,
    /// 0 to 1 in steps of 0.05.
    pub confidence: f64,
}

/// How a verdict was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictMeta {
    /// The prompt version it answered.
    pub prompt_version: String,
    /// Prompt tokens of the question.
    pub prompt_tokens: usize,
    /// Tokens of the answer.
    pub completion_tokens: usize,
    /// Time the answer took, in seconds.
    pub seconds: f64,
    /// Line id -> the line shown, in the order shown.
    #[serde(with = "ordered_map")]
    pub evidence: Vec<(String, String)>,
    /// Taken from the verdict cache.
    pub cached: bool,
    /// The model that answered (the screening model for a screening verdict).
    pub model: String,
    /// The detectors' verdict replaced an unusable answer.
    pub fallback: bool,
    /// The verdict does not dismiss what the detectors found strong.
    pub consistent_with_detectors: bool,
    /// Which question had the last word.
    pub tier: Tier,
    /// The screening answer, when triage was tiered.
    pub screen: Option<ScreenVerdict>,
    /// Why the model gave no answer (its request failed, or the evidence did not fit
    /// its context), when it gave none: the verdict is then the detectors'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl VerdictMeta {
    /// The line shown under `id`, if one was.
    pub fn line(&self, id: &str) -> Option<&str> {
        self.evidence
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, t)| t.as_str())
    }
}

/// Pairs written as a JSON object, keys in their order.
mod ordered_map {
    use serde::de::{MapAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        v: &[(String, String)],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_map(v.iter().map(|(k, t)| (k, t)))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<(String, String)>, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = Vec<(String, String)>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(pair) = m.next_entry()? {
                    out.push(pair);
                }
                Ok(out)
            }
        }
        d.deserialize_map(Pairs)
    }
}

/// A group's verdict with how it was made: what reports show and the cache keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupVerdict {
    /// The verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// How it was made.
    pub meta: VerdictMeta,
}

/// Longest root-cause summary (within the 200 the report format allows).
pub const RCA_SUMMARY_CHARS: usize = 200;
/// Longest propagation path a root-cause verdict may give.
pub const MAX_PATH: usize = 6;
/// Evidence ids a root-cause verdict cites at most.
pub const MAX_CITED: usize = 5;

/// The service a root-cause verdict names: one of the candidates shown, or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum Culprit {
    /// A candidate service (its canonical name).
    Service(String),
    /// The model could not decide.
    Unknown,
}

impl Culprit {
    /// How verdicts and schemas write "no decision".
    pub const UNKNOWN: &'static str = "unknown";

    /// The service named, if one is.
    pub fn service(&self) -> Option<&str> {
        match self {
            Culprit::Service(s) => Some(s),
            Culprit::Unknown => None,
        }
    }
}

impl From<Culprit> for String {
    fn from(c: Culprit) -> Self {
        match c {
            Culprit::Service(s) => s,
            Culprit::Unknown => Culprit::UNKNOWN.into(),
        }
    }
}

impl From<String> for Culprit {
    fn from(s: String) -> Self {
        if s == Culprit::UNKNOWN {
            Culprit::Unknown
        } else {
            Culprit::Service(s)
        }
    }
}

/// The model's answer on root-cause analysis: which of the ranked candidates started
/// the incident, how it propagated, and which of the evidence shown supports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RcaVerdict {
    /// One of the candidates shown, or `unknown`.
    pub root_cause_service: Culprit,
    /// The kind of fault.
    pub category: FaultCategory,
    /// One sentence.
    pub summary: String,
    /// From the root cause to the user-facing services, nodes of the service graph.
    pub propagation_path: Vec<String>,
    /// Ids of the evidence shown that support it.
    pub evidence_ids: Vec<String>,
    /// Up to [`MAX_STEPS`] steps.
    pub remediation_steps: Vec<String>,
    /// 0 to 1 in steps of 0.05.
    pub confidence: f64,
}

impl RcaVerdict {
    /// The schema of a root-cause verdict: `services` are the candidates shown (plus
    /// `unknown`), `nodes` the graph's nodes a path may name, `ids` the evidence shown.
    pub fn schema(services: &[String], nodes: &[String], ids: &[String]) -> Value {
        let mut culprits: Vec<String> = services.to_vec();
        culprits.push(Culprit::UNKNOWN.into());
        object(vec![
            ("root_cause_service", json!({ "enum": culprits })),
            ("category", json!({"enum": names(&FaultCategory::ALL)})),
            ("summary", text(RCA_SUMMARY_CHARS)),
            (
                "propagation_path",
                json!({"type": "array", "items": {"enum": nodes}, "minItems": 1, "maxItems": MAX_PATH}),
            ),
            (
                "evidence_ids",
                json!({"type": "array", "items": {"enum": ids}, "minItems": 1, "maxItems": ids.len().clamp(1, MAX_CITED)}),
            ),
            (
                "remediation_steps",
                json!({"type": "array", "items": text(STEP_CHARS), "maxItems": MAX_STEPS}),
            ),
            ("confidence", json!({"enum": confidence_steps()})),
        ])
    }

    /// The model's answer, if it is a root-cause verdict (shape only: what it names and
    /// cites is checked by triage).
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// The values the confidence takes: 0 to 1 in steps of 0.05.
fn confidence_steps() -> Vec<f64> {
    (0..=20)
        .map(|i| f64::from(i) * 0.05)
        .map(|x| (x * 100.0).round() / 100.0)
        .collect()
}

fn names<T: Copy + Into<&'static str>>(all: &[T]) -> Vec<&'static str> {
    all.iter().map(|v| (*v).into()).collect()
}

fn text(max: usize) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max})
}

/// An array of values from `allowed`, at least one.
fn cites(allowed: &[String]) -> Value {
    json!({"type": "array", "items": {"enum": allowed}, "minItems": 1, "maxItems": allowed.len().max(1)})
}

/// An object with exactly `fields`, all required.
fn object(fields: Vec<(&'static str, Value)>) -> Value {
    let required: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
    let properties: serde_json::Map<String, Value> = fields
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

impl Verdict {
    /// The schema of a detailed verdict: `components` and `ids` are the values it may
    /// cite.
    pub fn schema(components: &[String], ids: &[String]) -> Value {
        object(vec![
            ("is_anomaly", json!({"type": "boolean"})),
            ("severity", json!({"enum": names(Severity::ALL)})),
            ("category", json!({"enum": names(Category::ALL)})),
            ("summary", text(SUMMARY_CHARS)),
            ("root_cause", text(ROOT_CAUSE_CHARS)),
            ("affected_components", cites(components)),
            (
                "remediation_steps",
                json!({"type": "array", "items": text(STEP_CHARS), "maxItems": MAX_STEPS}),
            ),
            ("evidence_line_ids", cites(ids)),
            ("confidence", json!({"enum": confidence_steps()})),
        ])
    }

    /// The model's answer, if it is a verdict (shape only: what it cites is checked by
    /// triage).
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

impl ScreenVerdict {
    /// The schema of a screening answer.
    pub fn schema() -> Value {
        object(vec![
            ("is_anomaly", json!({"type": "boolean"})),
            ("severity", json!({"enum": names(Severity::ALL)})),
            ("confidence", json!({"enum": confidence_steps()})),
        ])
    }

    /// The model's answer, if it is a screening answer.
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(v: &Value) -> Vec<String> {
        v.as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn sorted(mut v: Vec<String>) -> Vec<String> {
        v.sort();
        v
    }

    fn verdict() -> Verdict {
        Verdict {
            is_anomaly: true,
            severity: Severity::High,
            category: Category::CredentialsAuth,
            summary: "Disk full.".into(),
            root_cause: String::new(),
            affected_components: vec!["db".into()],
            remediation_steps: Vec::new(),
            evidence_line_ids: vec!["L1".into()],
            confidence: 0.05,
        }
    }

    #[test]
    fn schemas_have_exactly_the_types_fields() {
        let s = Verdict::schema(&["db".into(), "api".into()], &["L1".into(), "C1".into()]);
        let fields = sorted(keys(&serde_json::to_value(verdict()).expect("serializes")));
        assert_eq!(sorted(keys(&s["properties"])), fields);
        let required: Vec<String> = serde_json::from_value(s["required"].clone()).expect("list");
        assert_eq!(sorted(required), fields);
        let screen = ScreenVerdict {
            is_anomaly: false,
            severity: Severity::Low,
            confidence: 1.0,
        };
        let fields = sorted(keys(&serde_json::to_value(&screen).expect("serializes")));
        assert_eq!(sorted(keys(&ScreenVerdict::schema()["properties"])), fields);
        assert_eq!(
            ScreenVerdict::schema()["properties"]["confidence"]["enum"][1],
            json!(0.05)
        );
    }

    #[test]
    fn schema_enumerates_what_may_be_cited_and_the_enums() {
        let s = Verdict::schema(&["db".into(), "api".into()], &["L1".into(), "C1".into()]);
        assert_eq!(
            s["properties"]["evidence_line_ids"]["items"]["enum"],
            json!(["L1", "C1"])
        );
        assert_eq!(
            s["properties"]["affected_components"]["items"]["enum"],
            json!(["db", "api"])
        );
        let conf = s["properties"]["confidence"]["enum"]
            .as_array()
            .expect("enum");
        assert_eq!(
            (conf.len(), &conf[1], &conf[20]),
            (21, &json!(0.05), &json!(1.0))
        );
        assert_eq!(
            s["properties"]["category"]["enum"][3],
            json!("credentials/auth")
        );
        assert_eq!(
            s["properties"]["severity"]["enum"],
            json!(["critical", "high", "medium", "low"])
        );
    }

    #[test]
    fn answers_parse_into_the_types_and_write_back_the_same() {
        let text = r#"{"is_anomaly":true,"severity":"high","category":"credentials/auth","summary":"Disk full.","root_cause":"","affected_components":["db"],"remediation_steps":[],"evidence_line_ids":["L1"],"confidence":0.05}"#;
        let v = Verdict::parse(text).expect("parses");
        assert_eq!(v, verdict());
        assert_eq!(
            serde_json::to_value(&v).ok(),
            serde_json::from_str::<Value>(text).ok()
        );
        assert!(Verdict::parse(&text.replace("high", "urgent")).is_none());
        assert!(Verdict::parse(r#"{"is_anomaly":true}"#).is_none());
        assert_eq!(
            ScreenVerdict::parse(r#"{"is_anomaly":false,"severity":"low","confidence":0.8}"#)
                .map(|s| (s.is_anomaly, s.severity)),
            Some((false, Severity::Low))
        );
        assert_eq!(Severity::of_level(Level::Error), Severity::High);
        assert!(Severity::Critical.is_urgent() && !Severity::Medium.is_urgent());
    }

    #[test]
    fn the_root_cause_schema_is_the_types_fields_and_enumerates_what_was_shown() {
        let s = RcaVerdict::schema(
            &["minio".into(), "spark-worker".into()],
            &["minio".into(), "spark-worker".into(), "airflow".into()],
            &["E1".into(), "E2".into()],
        );
        let v = RcaVerdict {
            root_cause_service: Culprit::Service("minio".into()),
            category: FaultCategory::Storage,
            summary: "MinIO's disk is full.".into(),
            propagation_path: vec!["minio".into(), "spark-worker".into()],
            evidence_ids: vec!["E1".into()],
            remediation_steps: Vec::new(),
            confidence: 0.9,
        };
        let json = serde_json::to_value(&v).expect("serializes");
        let fields = sorted(keys(&json));
        assert_eq!(sorted(keys(&s["properties"])), fields);
        let required: Vec<String> = serde_json::from_value(s["required"].clone()).expect("list");
        assert_eq!(sorted(required), fields);
        assert_eq!(
            s["properties"]["root_cause_service"]["enum"],
            json!(["minio", "spark-worker", "unknown"])
        );
        assert_eq!(
            s["properties"]["evidence_ids"]["items"]["enum"],
            json!(["E1", "E2"])
        );
        assert!(s["properties"]["category"]["enum"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("storage")) && a.contains(&json!("dns"))));
        let back = RcaVerdict::parse(&json.to_string()).expect("parses");
        assert_eq!(back, v);
        let unknown = json.to_string().replacen(
            "\"root_cause_service\":\"minio\"",
            "\"root_cause_service\":\"unknown\"",
            1,
        );
        assert_eq!(
            RcaVerdict::parse(&unknown).map(|v| v.root_cause_service),
            Some(Culprit::Unknown)
        );
        assert!(RcaVerdict::parse(&json.to_string().replace("storage", "plumbing")).is_none());
    }

    #[test]
    fn group_verdicts_round_trip_with_evidence_in_the_order_shown() {
        let gv = GroupVerdict {
            verdict: verdict(),
            meta: VerdictMeta {
                prompt_version: "triage-v1".into(),
                prompt_tokens: 10,
                completion_tokens: 5,
                seconds: 0.5,
                evidence: vec![
                    ("L1".into(), "disk full".into()),
                    ("C1".into(), "api: 507".into()),
                ],
                cached: false,
                model: "m.gguf".into(),
                fallback: false,
                consistent_with_detectors: true,
                tier: Tier::Detail,
                screen: None,
                error: None,
            },
        };
        let json = serde_json::to_value(&gv).expect("serializes");
        assert_eq!(keys(&json["meta"]["evidence"]), ["L1", "C1"]);
        assert_eq!(json["severity"], "high");
        assert_eq!(json["meta"]["tier"], "detail");
        let back: GroupVerdict = serde_json::from_value(json).expect("parses");
        assert_eq!(back, gv);
        assert_eq!(back.meta.line("C1"), Some("api: 507"));
    }
}

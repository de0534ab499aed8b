//! Tests of the collector.

use super::*;
use crate::rca::otlp::Peer;

fn span<'a>(
    service: &'a str,
    id: &'a [u8],
    parent: &'a [u8],
    kind: SpanKind,
    error: bool,
) -> SpanRecord<'a> {
    SpanRecord {
        service,
        instance: None,
        zone: None,
        trace_id: &[1; 16],
        span_id: id,
        parent_span_id: parent,
        name: "op",
        kind,
        start_ns: 1_700_000_000_000_000_000,
        end_ns: 1_700_000_000_100_000_000,
        error,
        message: None,
        peer: None,
        http_status: None,
    }
}

#[test]
fn parent_child_spans_make_edges_in_any_order() {
    let mut c = Collector::new();
    // The server span of `db-api` arrives before its parent client span in `web`.
    c.add_span(&span("db-api", &[2; 8], &[1; 8], SpanKind::Server, true));
    let mut client = span("web", &[1; 8], &[], SpanKind::Client, true);
    client.peer = Some(Peer {
        name: "10.0.0.9",
        kind: PeerKind::Service,
    });
    c.add_span(&client);
    c.join_orphans();
    let web = c.lookup("web").expect("web");
    let api = c.lookup("db-api").expect("db-api");
    let ip = c.lookup("10.0.0.9").expect("peer");
    assert_eq!(
        c.aliases.get(&(ip, api)),
        Some(&1),
        "the peer address is db-api"
    );
    assert_eq!(c.edges.get(&(web, ip)).map(|e| e.errors), Some(1));
    assert_eq!(c.error_spans.len(), 2);
    assert_eq!(c.stats.unjoined_spans, 0);
}

#[test]
fn the_index_is_bounded() {
    let mut c = Collector::with_limits(Limits {
        span_index: 4,
        ..Limits::default()
    });
    for i in 0u8..20 {
        c.add_span(&span("a", &[i; 8], &[], SpanKind::Server, false));
    }
    assert!(c.index.len() <= 4 && c.old_index.len() <= 4);
    assert!(c.stats.index_evictions > 0);
}

#[test]
fn log_records_feed_buckets_templates_and_instances() {
    let mut c = Collector::new();
    let t = DateTime::<Utc>::from_timestamp(1_700_000_000, 0);
    for (i, comp) in ["minio-1", "minio-2", "org.apache.Foo"].iter().enumerate() {
        c.add_log(&LogEvent {
            component: Some(comp),
            file: "logs/spark.log",
            multiplexed: i < 2,
            line: i as u64 + 1,
            time: t,
            level: Level::Error,
            template: 7,
            message: "write failed: no space left on device calling payments:8080",
            trace_id: None,
        });
    }
    let minio = c.lookup("minio").expect("minio");
    let spark = c
        .lookup("spark")
        .expect("logger path falls back to the file");
    assert_eq!(c.nodes[minio as usize].logs, 2);
    assert_eq!(c.nodes[minio as usize].instances.len(), 2);
    let tpl = c.templates.get(&(spark, 7)).expect("template");
    assert_eq!(tpl.categories.first(), Some(&Category::Storage));
    assert!(tpl.mentions.contains(&"payments".to_string()));
}

#[test]
fn names_past_the_cap_share_one_node_that_is_never_ranked() {
    let mut c = Collector::with_limits(Limits {
        nodes: 8,
        ..Limits::default()
    });
    let t = DateTime::<Utc>::from_timestamp(1_700_000_000, 0);
    let names: Vec<String> = (0..50).map(|i| format!("service{i}x")).collect();
    for (i, name) in names.iter().enumerate() {
        c.add_log(&LogEvent {
            component: Some(name),
            file: "compose.log",
            multiplexed: true,
            line: i as u64 + 1,
            time: t,
            level: Level::Error,
            template: 1,
            message: "failed",
            trace_id: None,
        });
    }
    assert_eq!(c.nodes.len(), 9, "eight names and the overflow node");
    let overflow: Vec<&Node> = c.nodes.iter().filter(|n| n.overflow).collect();
    assert_eq!(overflow.len(), 1);
    assert_eq!(overflow[0].logs, 42);
    assert_eq!(c.stats.overflow_events, 42);
    assert_eq!(c.stats.records, 50, "every record is still counted");
}

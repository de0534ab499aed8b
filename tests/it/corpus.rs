//! The labelled corpus of log formats (`tests/corpus`): record boundaries, timestamps,
//! levels and components as loglens reads them, against the annotation of every line.

use std::path::Path;

use loglens::bench::corpus::score;

/// Each metric over the whole corpus; the targets (benches/RESULTS.md) are higher, this
/// floor makes regressions fail.
const FLOOR: f64 = 0.98;
/// Each metric of each format, so one format cannot break unnoticed behind the others.
const FORMAT_FLOOR: f64 = 0.90;

#[test]
fn corpus_is_read_as_annotated() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let r = score(&dir).expect("corpus");
    assert!(r.formats.len() >= 30, "{} formats", r.formats.len());
    let m = &r.overall;
    let report = || {
        r.formats
            .iter()
            .filter(|f| f.metrics.worst() < 1.0)
            .map(|f| format!("{} {:.3}: {:?}", f.format, f.metrics.worst(), f.misses))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for (name, c) in [
        ("boundaries", m.boundaries),
        ("timestamp", m.timestamp),
        ("level", m.level),
        ("component", m.component),
    ] {
        assert!(c.rate() >= FLOOR, "{name} {:.4}\n{}", c.rate(), report());
    }
    for f in &r.formats {
        assert!(
            f.metrics.worst() >= FORMAT_FLOOR,
            "{}: {:?}\n{:?}",
            f.format,
            f.metrics,
            f.misses
        );
    }
}

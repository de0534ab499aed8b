//! Per-service health over time: each signal of a service (one series per template,
//! failed spans, failed calls into it, latency, silence) is compared with the service's
//! own earlier baseline by a one-sided likelihood-ratio change point (Poisson counts;
//! Gaussian log-latency). A service's onset is where its first significant departure
//! starts — not its first ERROR — and a pattern that already happened as strongly
//! before (a nightly failure, an hourly job) is chronic and counts for little.

use rustc_hash::FxHashMap;

use super::collect::{Collector, NodeId};
use crate::logs::level::Level;

/// Most bins on the time axis; longer inputs use wider bins.
pub const MAX_BINS: usize = 1440;
/// Bins of baseline a change point needs before it (at most a third of the axis).
pub const MIN_BASELINE: usize = 10;
/// Weighted log-likelihood ratio for a signal to count as a departure.
pub const MIN_SIGNAL: f64 = 4.0;
/// Summed departures that make a service abnormal.
pub const SIGNIFICANT: f64 = 12.0;
/// A departure no stronger than this fraction of an earlier window is chronic.
pub const CHRONIC_RATIO: f64 = 0.5;

/// The time axis shared by all series.
#[derive(Debug, Clone, Copy)]
pub struct Axis {
    /// First minute (Unix minutes).
    pub start: i32,
    /// Minutes per bin.
    pub width: i32,
    /// Number of bins.
    pub bins: usize,
}

impl Axis {
    fn new(min: i32, max: i32) -> Self {
        let span = (i64::from(max) - i64::from(min) + 1).max(1) as usize;
        let width = span.div_ceil(MAX_BINS).max(1);
        Axis {
            start: min,
            width: width as i32,
            bins: span.div_ceil(width),
        }
    }

    /// Whether a minute lies on the axis.
    pub fn contains(&self, minute: i32) -> bool {
        let end = i64::from(self.start) + self.bins as i64 * i64::from(self.width);
        (i64::from(self.start)..end).contains(&i64::from(minute))
    }

    /// The bin of a minute (clamped to the axis).
    pub fn bin(&self, minute: i32) -> usize {
        (((i64::from(minute) - i64::from(self.start)).max(0) / i64::from(self.width)) as usize)
            .min(self.bins.saturating_sub(1))
    }

    /// Unix milliseconds where a bin starts.
    pub fn bin_ms(&self, bin: usize) -> i64 {
        (i64::from(self.start) + bin as i64 * i64::from(self.width)) * 60_000
    }
}

/// What departed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// A log template (or a failed-span message) of the service.
    Template(u64),
    /// The service's own failed spans.
    SpanErrors,
    /// Failed calls into the service, as its callers saw them.
    CalledErrors,
    /// The service's own span latency.
    Latency,
    /// Latency of calls into the service, as its callers saw it.
    CalledLatency,
    /// Fewer records and spans than before (silence).
    Silence,
}

/// One departure from the baseline.
#[derive(Debug, Clone)]
pub struct Departure {
    /// Which series.
    pub signal: Signal,
    /// First bin of the departure.
    pub start: usize,
    /// Bin after its last.
    pub end: usize,
    /// Weighted log-likelihood ratio (after the chronic discount).
    pub score: f64,
    /// The pattern happened as strongly before.
    pub chronic: bool,
    /// When it started, to the record where known (Unix ms).
    pub onset_ms: i64,
    /// Rate per bin before, and during.
    pub rates: (f64, f64),
    /// Events during the departure.
    pub events: f64,
}

/// A service's health.
#[derive(Debug, Clone, Default)]
pub struct Health {
    /// Departures at or above [`MIN_SIGNAL`], strongest first.
    pub departures: Vec<Departure>,
    /// Sum of the departures' scores.
    pub strength: f64,
    /// Start of the first departure that overlaps the strongest one.
    pub onset_ms: Option<i64>,
    /// Its bin.
    pub onset_bin: Option<usize>,
    /// Whether the service is abnormal.
    pub significant: bool,
}

impl Health {
    /// Whether a signal departed.
    pub fn has(&self, f: impl Fn(&Signal) -> bool) -> bool {
        self.departures.iter().any(|d| f(&d.signal) && !d.chronic)
    }
}

/// A segment that departs upward from the baseline before it.
#[derive(Debug, Clone, Copy)]
struct Segment {
    start: usize,
    end: usize,
    lr: f64,
    before: f64,
    after: f64,
    events: f64,
}

impl Segment {
    fn shifted(mut self, by: usize) -> Self {
        self.start += by;
        self.end += by;
        self
    }
}

/// Candidate ends of a segment starting at `a`: doubling lengths, and the end.
fn ends(a: usize, n: usize) -> impl Iterator<Item = usize> {
    let mut len = 1usize;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let e = a + len;
        if e >= n {
            done = true;
            return Some(n);
        }
        len *= 2;
        Some(e)
    })
}

/// The most likely upward change of a count series: a segment `[a, e)` whose Poisson
/// rate exceeds the rate of `[0, a)`, by log-likelihood ratio.
fn best_rise(x: &[f64], prefix: &[f64]) -> Option<Segment> {
    let n = x.len();
    let mut best: Option<Segment> = None;
    let mut squares = Vec::with_capacity(n + 1);
    squares.push(0.0);
    for v in x {
        squares.push(squares[squares.len() - 1] + v * v);
    }
    for a in first_bin(n)..n {
        if x[a] <= 0.0 {
            continue; // a departure starts with an event
        }
        let r0 = (prefix[a] + 0.5) / a as f64;
        // Counts of real traffic vary more than Poisson: the baseline's dispersion
        // (variance over mean, at least 1) scales the likelihood ratio down.
        let mean = prefix[a] / a as f64;
        let dispersion = if mean > 0.0 {
            ((squares[a] / a as f64 - mean * mean) / mean).max(1.0)
        } else {
            1.0
        };
        for e in ends(a, n) {
            let c1 = prefix[e] - prefix[a];
            let n1 = (e - a) as f64;
            let r1 = c1 / n1;
            if r1 <= r0 {
                continue;
            }
            let lr = (c1 * (r1 / r0).ln() - n1 * (r1 - r0)) / dispersion;
            if best.is_none_or(|b| lr > b.lr) {
                best = Some(Segment {
                    start: a,
                    end: e,
                    lr,
                    before: r0,
                    after: r1,
                    events: c1,
                });
            }
        }
    }
    best
}

/// The first bin a departure may start in: after [`MIN_BASELINE`] bins, or a third of a
/// short axis.
fn first_bin(n: usize) -> usize {
    MIN_BASELINE.min(n / 3).max(1)
}

/// Bins a silence must last: the window's last bin is cut short where the data ends,
/// so a drop in it alone says nothing.
const MIN_SILENCE: usize = 3;

/// The most likely drop to the end of the series (a service falling silent) that lasts
/// at least [`MIN_SILENCE`] bins.
fn best_drop(x: &[f64], prefix: &[f64]) -> Option<Segment> {
    let n = x.len();
    let mut best: Option<Segment> = None;
    for a in first_bin(n)..n.saturating_sub(MIN_SILENCE - 1) {
        let r0 = prefix[a] / a as f64;
        if r0 < 2.0 {
            continue; // too sparse to call a silence
        }
        let c1 = prefix[n] - prefix[a];
        let n1 = (n - a) as f64;
        let r1 = (c1 / n1).max(1e-9);
        if r1 >= r0 * 0.5 {
            continue;
        }
        let lr = c1 * (r1 / r0).ln() - n1 * (r1 - r0);
        if best.is_none_or(|b| lr > b.lr) {
            best = Some(Segment {
                start: a,
                end: n,
                lr,
                before: r0,
                after: r1,
                events: c1,
            });
        }
    }
    best
}

/// The most likely rise of a latency series (mean log-latency per bin; `None` where a
/// bin has no calls), as a Gaussian likelihood ratio against the baseline's spread.
fn best_slowdown(y: &[Option<f64>]) -> Option<Segment> {
    let n = y.len();
    // Prefix sums of values, squares and counts of the bins with calls.
    let (mut sv, mut sq, mut sk) = (vec![0.0; n + 1], vec![0.0; n + 1], vec![0.0; n + 1]);
    for (i, v) in y.iter().enumerate() {
        let (a, b, k) = v.map_or((0.0, 0.0, 0.0), |v| (v, v * v, 1.0));
        sv[i + 1] = sv[i] + a;
        sq[i + 1] = sq[i] + b;
        sk[i + 1] = sk[i] + k;
    }
    let mut best: Option<Segment> = None;
    for a in first_bin(n)..n {
        if y[a].is_none() || sk[a] < 2.0 {
            continue;
        }
        let mean0 = sv[a] / sk[a];
        let var = (sq[a] / sk[a] - mean0 * mean0).max(0.0);
        let sd = var.sqrt().max(0.25);
        for e in ends(a, n) {
            let k = sk[e] - sk[a];
            if k <= 0.0 {
                continue;
            }
            let mean1 = (sv[e] - sv[a]) / k;
            // At least twice as slow, over at least three bins with calls.
            if mean1 - mean0 < 2f64.ln() || k < 3.0 {
                continue;
            }
            // Segments are compared uncapped; the score is capped once chosen.
            let lr = k * (mean1 - mean0).powi(2) / (2.0 * sd * sd);
            if best.is_none_or(|b| lr > b.lr) {
                best = Some(Segment {
                    start: a,
                    end: e,
                    lr,
                    before: mean0.exp(),
                    after: mean1.exp(),
                    events: k,
                });
            }
        }
    }
    best.map(|mut b| {
        b.lr = b.lr.min(100.0);
        b
    })
}

/// Quiet bins that separate two episodes of a pattern.
pub const EPISODE_GAP: usize = 30;

/// Whether a pattern recurs: its events fall into episodes separated by at least
/// [`EPISODE_GAP`] quiet bins, and another episode is at least [`CHRONIC_RATIO`] as large
/// as the largest (and holds two events or more). A nightly failure or an hourly job is;
/// a crash loop restarting every few minutes is one episode.
fn chronic(prefix: &[f64], _seg: &Segment) -> bool {
    let n = prefix.len() - 1;
    let mut episodes: Vec<f64> = Vec::new();
    let mut quiet = EPISODE_GAP;
    for i in 0..n {
        let v = prefix[i + 1] - prefix[i];
        if v > 0.0 {
            if quiet >= EPISODE_GAP || episodes.is_empty() {
                episodes.push(0.0);
            }
            if let Some(last) = episodes.last_mut() {
                *last += v;
            }
            quiet = 0;
        } else {
            quiet += 1;
        }
    }
    if episodes.len() < 2 {
        return false;
    }
    episodes.sort_by(|a, b| b.total_cmp(a));
    episodes[1] >= 2.0 && episodes[1] >= CHRONIC_RATIO * episodes[0]
}

fn prefix(x: &[f64]) -> Vec<f64> {
    let mut p = Vec::with_capacity(x.len() + 1);
    p.push(0.0);
    let mut s = 0.0;
    for v in x {
        s += v;
        p.push(s);
    }
    p
}

/// How much a template's departure weighs, by level: errors most, information least.
fn level_weight(level: Level) -> f64 {
    match level {
        Level::Critical | Level::Error => 3.0,
        Level::Warn => 2.0,
        Level::Notice | Level::Info => 1.0,
        Level::Debug | Level::Trace => 0.5,
    }
}

/// Health of every node on one axis.
pub struct Assessment {
    /// The time axis.
    pub axis: Axis,
    /// Per node (indexed by node id).
    pub nodes: Vec<Health>,
}

/// Computes every node's health.
pub fn assess(c: &Collector) -> Option<Assessment> {
    let (min, max) = robust_range(c)?;
    let axis = Axis::new(min, max);
    // Per node: its templates' series.
    let mut by_node: FxHashMap<NodeId, Vec<TemplateSeries>> = FxHashMap::default();
    for (&(node, key), t) in &c.templates {
        // A server failing to verify a caller's certificate reports the caller's
        // fault: it weighs on its own health as little as debug output.
        let level = if t.cert == Some(super::signature::CertOf::Client) {
            Level::Debug
        } else {
            t.level
        };
        by_node.entry(node).or_default().push((
            key,
            level,
            t.minutes.clone(),
            t.first.as_ref().and_then(|s| s.ms),
        ));
    }
    // Earliest failed span per (node, bin), to date span departures to the record.
    let mut first_error: FxHashMap<(NodeId, usize), i64> = FxHashMap::default();
    for e in &c.error_spans {
        for node in [e.node, e.peer] {
            if node == super::collect::NONE || !axis.contains(e.minute) {
                continue;
            }
            let v = first_error
                .entry((node, axis.bin(e.minute)))
                .or_insert(e.ms);
            *v = (*v).min(e.ms);
        }
    }
    let nodes = (0..c.nodes.len() as NodeId)
        .map(|id| {
            let templates = by_node.remove(&id).unwrap_or_default();
            node_health(c, id, &axis, &templates, &first_error)
        })
        .collect();
    Some(Assessment { axis, nodes })
}

/// The minutes that hold the data: from the 0.5th to the 99.5th percentile of all
/// events, widened by a day, so a few records with a wrong year (a yearless format read
/// in another year) do not stretch the axis over months.
fn robust_range(c: &Collector) -> Option<(i32, i32)> {
    let mut per: Vec<(i32, u64)> = Vec::new();
    for n in &c.nodes {
        for (&m, b) in &n.minutes {
            per.push((m, u64::from(b.logs + b.spans + b.in_calls).max(1)));
        }
    }
    if per.is_empty() {
        return None;
    }
    per.sort_unstable();
    let total: u64 = per.iter().map(|p| p.1).sum();
    let (mut lo, mut hi) = (per[0].0, per[per.len() - 1].0);
    let mut seen = 0u64;
    let mut found_lo = false;
    for &(m, k) in &per {
        seen += k;
        if !found_lo && seen * 200 >= total {
            lo = m;
            found_lo = true;
        }
        if seen * 200 >= total * 199 {
            hi = m;
            break;
        }
    }
    // The axis ends at real data: the earliest and latest minutes within a day of the
    // percentiles (an outlier far away must not stretch it over empty bins).
    let (lo_day, hi_day) = (lo.saturating_sub(1440), hi.saturating_add(1440));
    let min = per.iter().map(|p| p.0).find(|&m| m >= lo_day).unwrap_or(lo);
    let max = per
        .iter()
        .rev()
        .map(|p| p.0)
        .find(|&m| m <= hi_day)
        .unwrap_or(hi);
    Some((min, max.max(min)))
}

type TemplateSeries = (u64, Level, Vec<(i32, u32)>, Option<i64>);

fn node_health(
    c: &Collector,
    id: NodeId,
    axis: &Axis,
    templates: &[TemplateSeries],
    first_error: &FxHashMap<(NodeId, usize), i64>,
) -> Health {
    let node = &c.nodes[id as usize];
    let n = axis.bins;
    // The service's own baseline starts where its data starts (a service that begins
    // logging with the window has not "departed" from the empty day before it).
    let from = node
        .minutes
        .keys()
        .filter(|m| axis.contains(**m))
        .map(|&m| axis.bin(m))
        .min()
        .unwrap_or(0);
    let (logged, failures) = node.minutes.values().fold((0u64, 0u64), |(l, f), b| {
        (l + u64::from(b.logs), f + u64::from(b.warn + b.errors))
    });
    let failures_only = logged > 0 && failures == logged && node.spans == 0;
    let mut departures = Vec::new();
    let mut push = |signal: Signal, seg: Segment, weight: f64, chronic: bool, onset_ms: i64| {
        let score = seg.lr * weight * if chronic { 0.1 } else { 1.0 };
        if score >= MIN_SIGNAL {
            departures.push(Departure {
                signal,
                start: seg.start,
                end: seg.end,
                score,
                chronic,
                onset_ms,
                rates: (seg.before, seg.after),
                events: seg.events,
            });
        }
    };
    for (key, level, minutes, first_ms) in templates {
        let mut x = vec![0.0; n];
        for &(m, k) in minutes.iter().filter(|(m, _)| axis.contains(*m)) {
            x[axis.bin(m)] += f64::from(k);
        }
        // A service that logs only its failures (an object store, a proxy) is silent
        // while healthy: its first errors depart from that silence, measured from the
        // start of the whole window.
        let from = if failures_only { 0 } else { from };
        let p = prefix(&x[from..]);
        // One record is an anecdote, not a departure.
        if let Some(seg) = best_rise(&x[from..], &p).filter(|s| s.events >= 2.0) {
            let old = chronic(&p, &seg);
            let seg = seg.shifted(from);
            let start_ms = axis.bin_ms(seg.start);
            let onset = first_ms.filter(|&f| f >= start_ms).unwrap_or(start_ms);
            push(
                Signal::Template(*key),
                seg,
                level_weight(*level),
                old,
                onset,
            );
        }
    }
    let series = |f: &dyn Fn(&super::collect::Bucket) -> f64| {
        let mut x = vec![0.0; n];
        for (&m, b) in node.minutes.iter().filter(|(m, _)| axis.contains(**m)) {
            x[axis.bin(m)] += f(b);
        }
        x
    };
    let span_errors = series(&|b| f64::from(b.span_errors));
    let called_errors = series(&|b| f64::from(b.in_errors));
    let volume = series(&|b| f64::from(b.logs + b.spans));
    let own_calls = series(&|b| f64::from(b.spans));
    let own_latency = series(&|b| b.latency_us as f64);
    let in_calls = series(&|b| f64::from(b.in_calls));
    let in_latency = series(&|b| b.in_latency_us as f64);
    for (signal, x) in [
        (Signal::SpanErrors, &span_errors),
        (Signal::CalledErrors, &called_errors),
    ] {
        let p = prefix(&x[from..]);
        if let Some(seg) = best_rise(&x[from..], &p) {
            let old = chronic(&p, &seg);
            let seg = seg.shifted(from);
            let start_ms = axis.bin_ms(seg.start);
            let onset = first_error
                .get(&(id, seg.start))
                .copied()
                .unwrap_or(start_ms);
            push(signal, seg, 3.0, old, onset.max(start_ms));
        }
    }
    for (signal, calls, lat) in [
        (Signal::Latency, &own_calls, &own_latency),
        (Signal::CalledLatency, &in_calls, &in_latency),
    ] {
        let y: Vec<Option<f64>> = calls
            .iter()
            .zip(lat)
            .map(|(&k, &l)| (k > 0.0).then(|| (l / k / 1000.0).max(0.001).ln()))
            .collect();
        if let Some(seg) = best_slowdown(&y[from..]) {
            let seg = seg.shifted(from);
            push(signal, seg, 1.0, false, axis.bin_ms(seg.start));
        }
    }
    let p = prefix(&volume[from..]);
    if let Some(seg) = best_drop(&volume[from..], &p) {
        let seg = seg.shifted(from);
        push(Signal::Silence, seg, 1.0, false, axis.bin_ms(seg.start));
    }
    finish(departures)
}

fn finish(mut departures: Vec<Departure>) -> Health {
    departures.sort_by(|a, b| b.score.total_cmp(&a.score));
    let strength: f64 = departures
        .iter()
        .filter(|d| !d.chronic)
        .map(|d| d.score)
        .sum();
    let strongest = departures.iter().find(|d| !d.chronic).cloned();
    let onset = strongest.as_ref().and_then(|s| {
        departures
            .iter()
            .filter(|d| !d.chronic && d.start < s.end && s.start < d.end.max(d.start + 1))
            .min_by_key(|d| d.onset_ms)
            .map(|d| (d.onset_ms, d.start))
    });
    Health {
        significant: strength >= SIGNIFICANT,
        strength,
        onset_ms: onset.map(|o| o.0),
        onset_bin: onset.map(|o| o.1),
        departures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rise(x: &[f64]) -> Option<Segment> {
        best_rise(x, &prefix(x))
    }

    #[test]
    fn a_new_burst_departs_and_starts_where_it_starts() {
        let mut x = vec![0.0; 40];
        for v in &mut x[25..] {
            *v = 4.0;
        }
        let s = rise(&x).expect("a rise");
        assert_eq!(s.start, 25);
        assert!(s.lr > 50.0, "{s:?}");
    }

    #[test]
    fn steady_and_single_events_do_not_depart_much() {
        let steady = vec![3.0; 40];
        assert!(
            rise(&steady).is_none_or(|s| s.lr < MIN_SIGNAL),
            "{:?}",
            rise(&steady)
        );
        let mut one = vec![0.0; 40];
        one[30] = 1.0;
        assert!(rise(&one).expect("one").lr * 3.0 < SIGNIFICANT);
    }

    #[test]
    fn a_pattern_seen_as_strongly_before_is_chronic() {
        let mut x = vec![0.0; 60];
        for v in &mut x[10..14] {
            *v = 5.0;
        }
        for v in &mut x[50..54] {
            *v = 5.0;
        }
        let p = prefix(&x);
        let s = best_rise(&x, &p).expect("rise");
        assert!(chronic(&p, &s), "{s:?}");
        let mut fresh = vec![0.0; 60];
        for v in &mut fresh[50..54] {
            *v = 5.0;
        }
        let p = prefix(&fresh);
        assert!(!chronic(&p, &best_rise(&fresh, &p).expect("rise")));
    }

    #[test]
    fn silence_and_slowdowns_are_found() {
        let mut x = vec![20.0; 30];
        for v in &mut x[20..] {
            *v = 0.0;
        }
        let d = best_drop(&x, &prefix(&x)).expect("drop");
        assert_eq!(d.start, 20);
        let mut y: Vec<Option<f64>> = (0..30)
            .map(|i| Some(3.0 + 0.05 * f64::from(i % 3)))
            .collect();
        for v in &mut y[22..] {
            *v = Some(5.0);
        }
        let s = best_slowdown(&y).expect("slowdown");
        assert_eq!(s.start, 22);
    }

    #[test]
    fn axis_bins_long_inputs() {
        let a = Axis::new(0, 3 * 1440);
        assert!(a.bins <= MAX_BINS);
        assert_eq!(a.bin(0), 0);
        assert_eq!(a.bin(3 * 1440), a.bins - 1);
        assert_eq!(a.bin_ms(1), i64::from(a.width) * 60_000);
    }
}

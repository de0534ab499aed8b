//! Criterion benches of the template-mining hot path: masking one line, and the
//! miner's per-line cost once its templates are warm (the common case in production).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use loglens::logs::formats::{FormatSpec, Parser};
use loglens::logs::mask::{mask_into, Masked};
use loglens::logs::miner::Miner;

const LINES: &[&str] = &[
    "PacketResponder 1 for block blk_38865049064139660 terminating",
    "BLOCK* NameSystem.addStoredBlock: blockMap updated: 10.251.73.220:50010 is added to blk_7128370237687728475 size 67108864",
    "Receiving block blk_-1608999687919862906 src: /10.250.19.102:54106 dest: /10.250.19.102:50010",
    "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=173.234.31.186  user=root",
    "Established session 0x14ed93111f20027 with negotiated timeout 10000 for client /10.10.34.13:37177",
    "Block broadcast_9_piece0 stored as bytes in memory (estimated size 5.2 KB, free 5.2 KB)",
    "Storage resources are insufficient for the write operation warehouse/features/part-01234.parquet: drive /data1 has 12 MiB free",
    "ciod: LOGIN chdir(/p/gb2/glosli/8M_5000K/t800) failed: No such file or directory",
];

fn bench_mask(c: &mut Criterion) {
    let mut g = c.benchmark_group("mask");
    g.throughput(Throughput::Elements(LINES.len() as u64));
    let mut out = Masked::new();
    g.bench_function("mixed_lines", |b| {
        b.iter(|| {
            for l in LINES {
                mask_into(black_box(l), &mut out);
            }
        })
    });
    g.finish();
}

fn bench_miner(c: &mut Criterion) {
    let mut g = c.benchmark_group("miner");
    g.throughput(Throughput::Elements(LINES.len() as u64));
    let mut miner = Miner::default();
    for l in LINES {
        miner.add(l);
    }
    g.bench_function("add_warm", |b| {
        b.iter(|| {
            for l in LINES {
                black_box(miner.add(black_box(l)));
            }
        })
    });
    g.finish();
}

fn bench_header(c: &mut Criterion) {
    let parser = Parser::new(FormatSpec::parse("hdfs").expect("preset"));
    let line = "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating";
    c.bench_function("parse/hdfs_header", |b| {
        b.iter(|| black_box(parser.parse_line(black_box(line))))
    });
}

// The macro defines an undocumented public function.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, bench_mask, bench_miner, bench_header);
}
criterion_main!(group::benches);

//! Template mining: masking, stable ids, state round trip and bounded memory.

use loglens::logs::mask::{mask_into, Masked};
use loglens::logs::miner::{template_id, Miner, MinerConfig};

fn masked(s: &str) -> String {
    let mut m = Masked::new();
    mask_into(s, &mut m);
    m.text().to_string()
}

#[test]
fn masks_the_kinds_of_variables_logs_have() {
    let cases = [
        ("conn from 10.1.2.3:5432 closed", "conn from <*> closed"),
        ("peer [2001:db8::1]:443 reset", "peer [<*>]:<*> reset"),
        ("GET https://svc.local/api/v1?id=7 failed", "GET <*> failed"),
        ("open /var/lib/data/file.db failed", "open <*> failed"),
        (
            "request 550e8400-e29b-41d4-a716-446655440000 done",
            "request <*> done",
        ),
        ("took 1.5s waited 300ms", "took <*> waited <*>"),
        ("wrote 512 MB", "wrote <*>"),
        ("checksum 0xdeadbeef ok", "checksum <*> ok"),
        ("sha 9f86d081884c7d659a2feaa0c55ad015 ok", "sha <*> ok"),
        ("mail to ops@example.com bounced", "mail to <*> bounced"),
        ("block blk_-1608999687919862906 added", "block <*> added"),
        ("at 2025-11-03T20:36:40Z retry", "at <*> retry"),
        ("retry 3 of 5 in 20:36:40.123", "retry <*> of <*> in <*>"),
    ];
    for (input, want) in cases {
        assert_eq!(masked(input), want, "{input}");
    }
}

#[test]
fn lines_that_are_mostly_variables_stay_at_a_handful_of_templates() {
    // Drain3 makes a cluster per `BLOCK* ask ... to delete` line when the lists of block
    // ids differ in length; here they share one template.
    let mut miner = Miner::default();
    let mut seed = 12345u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..50_000u64 {
        let n = 1 + (next() % 12) as usize;
        let blocks: Vec<String> = (0..n).map(|_| format!("blk_{}", next() as i64)).collect();
        let line = match i % 4 {
            0 => format!(
                "BLOCK* ask 10.250.{}.{}:50010 to delete {}",
                next() % 255,
                next() % 255,
                blocks.join(" ")
            ),
            1 => format!(
                "BLOCK* ask 10.251.{}.{}:50010 to replicate {} to datanode(s) 10.251.{}.{}:50010",
                next() % 255,
                next() % 255,
                blocks[0],
                next() % 255,
                next() % 255
            ),
            2 => format!(
                "Receiving block {} src: /10.250.{}.{}:{} dest: /10.250.{}.{}:50010",
                blocks[0],
                next() % 255,
                next() % 255,
                next() % 65535,
                next() % 255,
                next() % 255
            ),
            _ => format!(
                "PacketResponder {} for block {} terminating",
                next() % 3,
                blocks[0]
            ),
        };
        miner.add(&line);
    }
    assert!(miner.len() <= 4, "{} templates", miner.len());
    let templates: Vec<String> = miner.clusters().map(|(_, c)| c.template()).collect();
    assert!(
        templates.contains(&"BLOCK* ask <*> to delete <*>".to_string()),
        "{templates:?}"
    );
}

#[test]
fn cluster_cap_bounds_memory() {
    let config = MinerConfig {
        max_clusters: 10,
        max_cache: 50,
        ..MinerConfig::default()
    };
    let mut miner = Miner::new(config);
    let words = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
    ];
    for i in 0..1000usize {
        let line = format!(
            "{} {} {} {}",
            words[i % 8],
            words[(i / 8) % 8],
            words[(i / 64) % 8],
            i % 7
        );
        miner.add(&line);
    }
    assert!(miner.len() <= 11, "clusters {}", miner.len());
    assert!(miner.overflowed() > 0);
    assert!(miner.cache_len() <= 50);
}

#[test]
fn ids_are_stable_and_state_round_trips() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("miner.json");
    let mut miner = Miner::default();
    let a = miner.add("disk sda1 is 97% full");
    let id = miner.cluster(a).template_id();
    assert_eq!(id, template_id("disk sda1 is <*> full"));
    miner.save(&path).expect("save");
    let mut again = Miner::load(&path).expect("load");
    let b = again.add("disk sda1 is 99% full");
    assert_eq!(again.cluster(b).template_id(), id);
    assert_eq!(again.cluster(b).size(), 2);
    std::fs::write(&path, b"{ not json").expect("write");
    let err = Miner::load(&path).expect_err("corrupt state is an error");
    assert!(err.to_string().contains("miner.json"), "{err}");
}

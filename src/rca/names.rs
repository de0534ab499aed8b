//! Service names: one canonical key per service whatever wrote the name (a trace's
//! `service.name`, a compose replica `minio-1`, a pod `checkout-7d9f8b6c5d-x2x7k`, a
//! Python logger `feature_api`, a host `orders-db.prod.svc:5432`), and the names a log
//! message mentions (hosts, URLs, words) so callers' messages can be matched to nodes.

/// A service's canonical key: lower case, `_` as `-`, without a host's domain and port,
/// without a replica suffix (compose `-1`, StatefulSet `-0`, ReplicaSet `-<hash>-<id>`,
/// DaemonSet `-<id>`).
pub fn canonical(name: &str) -> String {
    let host = host_part(name.trim());
    let lower: String = host
        .chars()
        .map(|c| match c {
            '_' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    strip_replica(&lower).to_string()
}

/// The host of `scheme://host:port/path`, `host:port` or `host.domain`, when the text
/// is one; otherwise the text.
fn host_part(s: &str) -> &str {
    let rest = s.split_once("://").map_or(s, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next().unwrap_or(host);
    if host.is_empty() {
        return s;
    }
    // An IP address stays whole.
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return host;
    }
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    if labels.len() < 2 {
        return labels.first().copied().unwrap_or(host);
    }
    let lower = |l: &str| l.to_ascii_lowercase();
    // A cluster name (`orders-db.shop.svc.cluster.local`) is its first label; a public
    // name (`api.paygate.example.com`) is the organisation's label before its suffix.
    if labels
        .iter()
        .any(|l| CLUSTER_LABELS.contains(&lower(l).as_str()))
    {
        return labels[0];
    }
    let mut end = labels.len();
    while end > 1 && PUBLIC_SUFFIXES.contains(&lower(labels[end - 1]).as_str()) {
        end -= 1;
    }
    if end == labels.len() {
        labels[0]
    } else {
        labels[end - 1]
    }
}

/// Labels that mark a name inside a cluster or a private network.
const CLUSTER_LABELS: &[&str] = &[
    "svc",
    "cluster",
    "local",
    "internal",
    "localdomain",
    "lan",
    "pod",
    "consul",
    "intra",
    "corp",
];
/// Public suffixes (and the reserved example names) stripped from public host names.
const PUBLIC_SUFFIXES: &[&str] = &[
    "com", "net", "org", "io", "co", "dev", "app", "cloud", "ai", "biz", "info", "example", "test",
    "invalid", "us", "eu", "uk", "de", "fr", "nl", "jp", "in", "au", "ca", "me", "tv", "api",
    "gov", "edu",
];

/// Removes one replica suffix from a canonical name.
fn strip_replica(name: &str) -> &str {
    let parts: Vec<&str> = name.split('-').collect();
    let n = parts.len();
    if n < 2 {
        return name;
    }
    let is_rs_hash = |p: &str| {
        (8..=10).contains(&p.len())
            && p.bytes().all(|b| b.is_ascii_alphanumeric())
            && p.bytes().any(|b| b.is_ascii_digit())
    };
    let is_pod_id = |p: &str| {
        p.len() == 5
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && p.bytes().any(|b| b.is_ascii_digit())
    };
    let keep = if n >= 3 && is_rs_hash(parts[n - 2]) && is_pod_id(parts[n - 1]) {
        n - 2
    } else if (parts[n - 1].len() <= 3 && parts[n - 1].bytes().all(|b| b.is_ascii_digit()))
        || (is_pod_id(parts[n - 1]) && parts[n - 1].bytes().any(|b| b.is_ascii_lowercase()))
    {
        n - 1
    } else {
        n
    };
    leading(name, &parts, keep)
}

/// The first `keep` of a name's `-`-separated `parts`, as one slice of it.
fn leading<'a>(name: &'a str, parts: &[&str], keep: usize) -> &'a str {
    let len: usize = parts[..keep].iter().map(|p| p.len()).sum::<usize>() + keep.saturating_sub(1);
    &name[..len]
}

/// Whether a component name is a logger or class path (`org.apache.spark.Executor`,
/// `app.db.pool`) rather than a service: such records belong to their file's service.
pub fn is_logger_path(name: &str) -> bool {
    let dots = name.bytes().filter(|&b| b == b'.').count();
    dots >= 1
        && !name.contains(['/', ' ', ':'])
        && name.split('.').all(|p| !p.is_empty())
        && !name
            .split('.')
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
        && !name.ends_with(".log")
}

/// File stems that name a product, a stream or a rotation rather than a service.
const GENERIC_STEMS: &[&str] = &[
    "current",
    "stdout",
    "stderr",
    "output",
    "app",
    "log",
    "logs",
    "access",
    "error",
    "errors",
    "server",
    "postgresql",
    "postgres",
    "mysql",
    "mysqld",
    "redis",
    "redis-server",
    "nginx",
    "kafka",
    "server-log",
    "messages",
    "syslog",
    "journal",
    "kubelet-log",
    "main",
];
/// Folder names that hold logs without naming a service.
const GENERIC_DIRS: &[&str] = &[
    "logs", "log", "var", "tmp", "data", "output", "otel", "files", "nodes",
];

/// A service name from a log file's path, and the raw name it came from (a replica
/// name such as `orders-api-2`): `feature-api.log` → `feature-api`;
/// `pods/shop_checkout-7d9f-abcde_uid/checkout/0.log` → `checkout` (the container folder
/// when the file is a bare number); `accounts-pg/postgresql.log` → `accounts-pg`.
pub fn from_path(path: &str) -> Option<(String, String)> {
    let p = std::path::Path::new(path);
    let mut stem = p.file_name()?.to_str()?;
    for ext in [".gz", ".log", ".txt", ".json", ".jsonl", ".out", ".err"] {
        stem = stem.strip_suffix(ext).unwrap_or(stem);
        stem = stem.strip_suffix(ext).unwrap_or(stem);
    }
    let numbered = stem.is_empty() || stem.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let generic = numbered || GENERIC_STEMS.contains(&stem.to_ascii_lowercase().as_str());
    let parent = p
        .parent()
        .and_then(|d| d.file_name())
        .and_then(|d| d.to_str())
        .filter(|d| !GENERIC_DIRS.contains(&d.to_ascii_lowercase().as_str()));
    // Kubernetes' `pods/<namespace>_<pod>_<uid>/<container>/<n>.log`: the pod is the
    // replica.
    let pod = p
        .parent()
        .and_then(|d| d.parent())
        .and_then(|d| d.file_name())
        .and_then(|d| d.to_str())
        .and_then(pod_of_dir);
    match (generic, parent) {
        // The service is the pod's workload (Deployment, StatefulSet, DaemonSet), which
        // is what an engineer rolls back or restarts; the container only names it when
        // the pod's name has no workload left.
        (true, Some(dir)) if numbered && pod.is_some() => {
            let raw = pod.unwrap_or(dir);
            let service = workload(raw).unwrap_or(dir);
            Some((canonical(service), raw.to_string()))
        }
        (true, Some(dir)) => Some((canonical(dir), dir.to_string())),
        (true, None) if numbered => None,
        _ => Some((canonical(stem), stem.to_string())),
    }
}

/// The workload of the pod a Kubernetes container log belongs to, from its path
/// (`/var/log/pods/<ns>_<pod>_<uid>/<container>/<n>.log` or
/// `/var/log/containers/<pod>_<ns>_<container>-<id>.log`).
pub fn pod_workload(path: &str) -> Option<String> {
    let p = std::path::Path::new(path);
    let name = p.file_name()?.to_str()?;
    let parent = p.parent()?;
    let dir = parent.file_name()?.to_str()?;
    let pod = if dir == "containers" {
        let stem = name.strip_suffix(".log")?;
        let parts: Vec<&str> = stem.split('_').collect();
        (parts.len() == 3).then(|| parts[0])?
    } else {
        let numbered = name
            .strip_suffix(".log")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        let grand = parent.parent()?.file_name()?.to_str()?;
        pod_of_dir(grand).filter(|_| numbered)?
    };
    workload(pod).map(canonical)
}

/// The pod of a kubelet log folder, `<namespace>_<pod>_<uid>`.
fn pod_of_dir(dir: &str) -> Option<&str> {
    let mut parts = dir.split('_');
    let (_, pod, _) = (parts.next()?, parts.next()?, parts.next()?);
    parts.next().is_none().then_some(pod)
}

/// The workload of a Kubernetes pod name: without the ReplicaSet's `-<hash>-<id>`, a
/// DaemonSet's or Job's `-<id>` or a StatefulSet's `-<ordinal>`. Kubernetes draws those
/// suffixes from an alphabet without vowels, so `checkout-7d9f8b6c5d-x2x7k`,
/// `calico-node-l4vj5` and `postgres-0` give `checkout`, `calico-node` and `postgres`.
pub fn workload(pod: &str) -> Option<&str> {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let generated = |p: &str, lens: std::ops::RangeInclusive<usize>| {
        lens.contains(&p.len()) && p.bytes().all(|b| ALPHABET.contains(&b))
    };
    let parts: Vec<&str> = pod.split('-').collect();
    let n = parts.len();
    if n < 2 {
        return None;
    }
    let keep = if n >= 3 && generated(parts[n - 2], 6..=10) && generated(parts[n - 1], 5..=5) {
        n - 2
    } else if generated(parts[n - 1], 5..=5)
        || (parts[n - 1].len() <= 3 && parts[n - 1].bytes().all(|b| b.is_ascii_digit()))
    {
        n - 1
    } else {
        return None;
    };
    Some(leading(pod, &parts, keep))
}

/// The words of a message, split at spaces, quotes, brackets and separators.
fn words(message: &str) -> impl Iterator<Item = &str> {
    message.split(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '"' | '\'' | '(' | ')' | '[' | ']' | '{' | '}' | ',' | ';' | '=' | '<' | '>' | '`'
            )
    })
}

/// Canonical names a message mentions: each token's host (URLs, `host:port`, FQDNs)
/// and the token itself, deduplicated, at most `max`. Tokens shorter than 2 characters
/// or made only of digits are skipped.
pub fn mentions(message: &str, max: usize, out: &mut Vec<String>) {
    for raw in words(message) {
        if out.len() >= max {
            return;
        }
        let t = raw.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if t.len() < 2 || t.len() > 253 || t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            continue;
        }
        if !t.bytes().any(|b| b.is_ascii_alphabetic()) || is_argument(message, raw) {
            continue;
        }
        let c = canonical(t);
        if c.len() >= 2 && !out.contains(&c) {
            out.push(c);
        }
    }
}

/// Keys whose `key=value` names data a request is about (a bucket, an object, a table,
/// a user), never the service it calls: `PutObject(bucket=warehouse, ...)`.
const ARGUMENT_KEYS: &[&str] = &[
    "bucket", "object", "key", "prefix", "path", "file", "filename", "table", "user", "username",
    "tenant", "method", "route", "query",
];

/// Whether `word` (a slice of `message`) is the value of an argument key.
fn is_argument(message: &str, word: &str) -> bool {
    let at = (word.as_ptr() as usize).saturating_sub(message.as_ptr() as usize);
    let Some(before) = message.get(..at).and_then(|b| b.strip_suffix('=')) else {
        return false;
    };
    let key = before
        .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'))
        .next()
        .unwrap_or("");
    let last = key.rsplit(['.', '_', '-']).next().unwrap_or(key);
    ARGUMENT_KEYS.iter().any(|k| last.eq_ignore_ascii_case(k))
}

/// Words written as `key:value` in messages that are never a host with its port.
const FIELD_KEYS: &[&str] = &[
    "pid",
    "tid",
    "uid",
    "gid",
    "id",
    "line",
    "col",
    "column",
    "code",
    "status",
    "errno",
    "attempt",
    "attempts",
    "retry",
    "retries",
    "try",
    "port",
    "thread",
    "worker",
    "exit",
    "signal",
    "size",
    "len",
    "length",
    "count",
    "offset",
    "partition",
    "epoch",
    "seq",
    "step",
    "rank",
    "shard",
    "page",
    "version",
    "ver",
    "v",
    "pos",
    "index",
    "idx",
    "level",
    "took",
    "duration",
    "elapsed",
    "time",
    "ts",
    "at",
    "err",
    "error",
    "rc",
    "ret",
    "fd",
    "cpu",
    "mem",
];

/// Extensions that make a dotted token a file or a code path, not a host.
const FILE_EXTENSIONS: &[&str] = &[
    "java",
    "py",
    "go",
    "rs",
    "js",
    "ts",
    "rb",
    "php",
    "log",
    "json",
    "yaml",
    "yml",
    "xml",
    "txt",
    "csv",
    "parquet",
    "class",
    "jar",
    "so",
    "conf",
    "cfg",
    "ini",
    "sh",
    "html",
    "sql",
    "gz",
    "zip",
    "tar",
    "pem",
    "crt",
    "key",
    "exception",
    "error",
    "lang",
    "util",
];

/// Canonical names of the hosts a message names: URL hosts, `host:port`, and dotted
/// names that end like a domain (not files or class paths). Systems named only this way
/// (a third-party API, an uninstrumented database) become nodes of the graph.
pub fn hosts(message: &str, max: usize, out: &mut Vec<String>) {
    for raw in words(message) {
        if out.len() >= max {
            return;
        }
        let t = raw.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '/' && c != ':');
        let t = t.trim_end_matches([':', '/']);
        let host = if let Some((_, rest)) = t.split_once("://") {
            rest.split(['/', '?', '#']).next().unwrap_or("")
        } else {
            t
        };
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
        let (name, port) = match host.rsplit_once(':') {
            Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (h, true),
            _ => (host, false),
        };
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            && name.bytes().any(|b| b.is_ascii_alphabetic())
            && !name.starts_with(['-', '.']);
        if !valid {
            continue;
        }
        let last = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
        let dotted = name.contains('.')
            && (PUBLIC_SUFFIXES.contains(&last.as_str())
                || CLUSTER_LABELS.contains(&last.as_str()))
            && !FILE_EXTENSIONS.contains(&last.as_str())
            && !name
                .split('.')
                .any(|l| l.bytes().any(|b| b.is_ascii_uppercase()));
        // `pid:389`, `line:42`: a field and its value, not a host and its port.
        let plain = !name.contains('.')
            && !name.bytes().any(|b| b.is_ascii_uppercase())
            && !FIELD_KEYS.contains(&name);
        if t.contains("://") || dotted || (port && plain) {
            let c = canonical(name);
            if c.len() >= 2 && !out.contains(&c) {
                out.push(c);
            }
        }
    }
}

/// Whether a canonical token names a node, allowing the usual suffixes on either side
/// (`payments` and `payments-service`, `orders-db` and `orders-db-svc`).
pub fn same_service(token: &str, node: &str) -> bool {
    if token == node {
        return true;
    }
    let strip = |s: &'_ str| -> String {
        let mut s = s.to_string();
        for suffix in ["-service", "-svc", "-server", "-srv"] {
            if let Some(t) = s.strip_suffix(suffix) {
                s = t.to_string();
            }
        }
        s
    };
    let (a, b) = (strip(token), strip(node));
    a.len() >= 3 && a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_names_drop_replicas_hosts_and_ports() {
        assert_eq!(canonical("minio-1"), "minio");
        assert_eq!(canonical("airflow-worker-1"), "airflow-worker");
        assert_eq!(canonical("checkout-7d9f8b6c5d-x2x7k"), "checkout");
        assert_eq!(canonical("node-exporter-4xk2p"), "node-exporter");
        assert_eq!(canonical("feature_api"), "feature-api");
        assert_eq!(
            canonical("orders-db.prod.svc.cluster.local:5432"),
            "orders-db"
        );
        assert_eq!(canonical("http://payments:8080/v1/pay"), "payments");
        assert_eq!(canonical("10.0.3.7:9000"), "10.0.3.7");
        assert_eq!(
            canonical("https://api.paygate.example.com/v1/charge"),
            "paygate"
        );
        assert_eq!(canonical("api.textline.example.io:443"), "textline");
        assert_eq!(
            canonical("playlists-db.apps.svc.cluster.local"),
            "playlists-db"
        );
        assert_eq!(canonical("Redis"), "redis");
        assert_eq!(canonical("ubuntu"), "ubuntu");
        assert_eq!(canonical("api-gateway"), "api-gateway");
        assert_eq!(canonical("web-0"), "web");
    }

    #[test]
    fn loggers_files_and_mentions() {
        assert!(is_logger_path("org.apache.spark.executor.Executor"));
        assert!(!is_logger_path("spark-worker-1"));
        assert!(!is_logger_path("10.0.0.1"));
        let svc = |p: &str| from_path(p).map(|x| x.0);
        assert_eq!(svc("logs/feature-api.log").as_deref(), Some("feature-api"));
        assert_eq!(svc("logs/orders-api-2.log").as_deref(), Some("orders-api"));
        assert_eq!(
            svc("logs/pods/shop_checkout-7d9f8b6c5d-x2x7k_1f/checkout/0.log").as_deref(),
            Some("checkout")
        );
        // The workload, not the container, names a pod's service.
        assert_eq!(
            svc("logs/pods/kube-system_calico-node-l4vj5_29a3/calico/0.log").as_deref(),
            Some("calico-node")
        );
        assert_eq!(
            svc("logs/pods/ingress_ingress-nginx-controller-5c8d66c76d-vkbzx_9e/controller/0.log")
                .as_deref(),
            Some("ingress-nginx-controller")
        );
        assert_eq!(
            svc("logs/pods/db_orders-pg-0_77/postgres/0.log").as_deref(),
            Some("orders-pg")
        );
        // A pod without a generated suffix keeps its container's name.
        assert_eq!(
            svc("logs/pods/tools_debug_12/shell/0.log").as_deref(),
            Some("shell")
        );
        assert_eq!(workload("debug-shell"), None);
        assert_eq!(
            pod_workload("/var/log/pods/kube-system_calico-node-l4vj5_29a3/calico/0.log")
                .as_deref(),
            Some("calico-node")
        );
        assert_eq!(
            pod_workload("/var/log/containers/api-7d9f8b6c5d-x2x7k_prod_server-0123abcd.log")
                .as_deref(),
            Some("api")
        );
        assert_eq!(pod_workload("/var/log/app/api.log"), None);
        assert_eq!(workload("coredns-7fb4gff2hr-jc96w"), Some("coredns"));
        assert_eq!(
            svc("logs/accounts-pg/postgresql.log").as_deref(),
            Some("accounts-pg")
        );
        assert_eq!(svc("logs/nginx/access.log").as_deref(), Some("nginx"));
        assert_eq!(svc("logs/redis.log").as_deref(), Some("redis"));
        assert_eq!(svc("logs/0.log"), None);
        let mut m = Vec::new();
        mentions(
            "timeout calling http://payments.prod.svc:8080/pay after 3000 ms (orders-db:5432)",
            16,
            &mut m,
        );
        assert!(m.contains(&"payments".to_string()), "{m:?}");
        assert!(m.contains(&"orders-db".to_string()), "{m:?}");
        assert!(!m.iter().any(|t| t == "3000"));
        let mut a = Vec::new();
        mentions(
            "PutObject(bucket=warehouse, object=objects/fd9b.bin) upstream=ledger-api",
            16,
            &mut a,
        );
        assert!(!a.contains(&"warehouse".to_string()), "{a:?}");
        assert!(a.contains(&"ledger-api".to_string()), "{a:?}");
        assert!(same_service("payments-service", "payments"));
        let mut h = Vec::new();
        hosts(
            "POST https://verify.idcheck.example.com/v2/check failed; dial orders-db:5432; at com.acme.Foo.bar(Foo.java:12) wrote app.log; lookup redis.shop.svc.cluster.local; Worker (pid:389) was sent SIGKILL",
            16,
            &mut h,
        );
        assert_eq!(h, vec!["idcheck", "orders-db", "redis"]);
        assert!(
            !same_service("db", "db-svc"),
            "short names must match exactly"
        );
    }
}

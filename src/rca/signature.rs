//! Fault signatures: what a record's text says about the kind of fault (disk full, OOM,
//! DNS, certificate expiry, pool exhaustion, configuration, rate limit, ...), and on
//! whose side the fault is. A full disk is the writer's own fault; a DNS failure is the
//! resolver's, a 429 is the callee's, an expired certificate the server's that presented
//! it — such "remote-side" signatures count for the node the record names, not for the
//! service that wrote it.

use std::sync::OnceLock;

use regex::RegexSet;
use serde::{Deserialize, Serialize};

/// The kind of fault a root cause is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Disk or volume full, storage quota reached.
    Storage,
    /// Out of memory, killed, crash loop, panic.
    ResourceExhaustion,
    /// Name resolution failed.
    Dns,
    /// Certificate expired or not trusted, TLS handshake failed.
    Tls,
    /// Connection pool exhausted or leaking.
    ConnectionPool,
    /// Invalid or missing configuration.
    Configuration,
    /// A dependency rejects calls for rate or quota.
    RateLimit,
    /// A database down, slow, locked or refusing connections.
    Database,
    /// A message broker unavailable or partitioned.
    Broker,
    /// Network unreachable, partitioned, resets, timeouts.
    Network,
    /// A release that broke the service.
    BadDeploy,
    /// Slower responses without a named resource.
    Latency,
    /// Errors of the service's own code.
    Application,
    /// Not determined.
    Unknown,
}

impl Category {
    /// Every category, in declaration order.
    pub const ALL: [Category; 14] = [
        Category::Storage,
        Category::ResourceExhaustion,
        Category::Dns,
        Category::Tls,
        Category::ConnectionPool,
        Category::Configuration,
        Category::RateLimit,
        Category::Database,
        Category::Broker,
        Category::Network,
        Category::BadDeploy,
        Category::Latency,
        Category::Application,
        Category::Unknown,
    ];

    /// The name used in reports and schemas.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Storage => "storage",
            Category::ResourceExhaustion => "resource_exhaustion",
            Category::Dns => "dns",
            Category::Tls => "tls",
            Category::ConnectionPool => "connection_pool",
            Category::Configuration => "configuration",
            Category::RateLimit => "rate_limit",
            Category::Database => "database",
            Category::Broker => "broker",
            Category::Network => "network",
            Category::BadDeploy => "bad_deploy",
            Category::Latency => "latency",
            Category::Application => "application",
            Category::Unknown => "unknown",
        }
    }

    /// Parses a name as [`Category::as_str`] writes it, or a common synonym.
    pub fn parse(s: &str) -> Option<Category> {
        let k = s.trim().to_ascii_lowercase().replace([' ', '-', '/'], "_");
        let c = match k.as_str() {
            "storage" | "disk_full" | "disk" | "disk_pressure" | "enospc" => Category::Storage,
            "resource_exhaustion"
            | "oom_crash"
            | "oom"
            | "crash"
            | "crash_loop"
            | "crashloop"
            | "oom_kill"
            | "memory"
            | "oom_crash_loop" => Category::ResourceExhaustion,
            "dns" | "dns_failure" | "name_resolution" => Category::Dns,
            "tls" | "tls_certificate" | "certificate" | "cert_expiry" | "tls_cert_expiry"
            | "certificate_expiry" | "tls_expiry" => Category::Tls,
            "connection_pool" | "pool" | "connection_pool_leak" | "pool_exhaustion" => {
                Category::ConnectionPool
            }
            "configuration" | "config" | "bad_config" | "misconfiguration" => {
                Category::Configuration
            }
            "rate_limit" | "rate_limited" | "throttling" | "dependency_rate_limit" => {
                Category::RateLimit
            }
            "database" | "db" | "database_down" | "database_slow" | "db_down" | "db_slow" => {
                Category::Database
            }
            "broker" | "broker_failure" | "queue" | "messaging" => Category::Broker,
            "network" | "network_partition" | "partition" | "zone_partition" => Category::Network,
            "bad_deploy" | "deploy" | "deployment" | "release" | "bad_release" => {
                Category::BadDeploy
            }
            "latency" | "slow" | "slowdown" => Category::Latency,
            "application" | "application_bug" | "bug" | "app" => Category::Application,
            "unknown" => Category::Unknown,
            _ => return None,
        };
        Some(c)
    }

    /// Whether a record with this signature describes a fault of the system it names or
    /// reached (resolver, server, dependency) rather than of its writer.
    pub fn remote_side(self) -> bool {
        matches!(
            self,
            Category::Dns
                | Category::Tls
                | Category::RateLimit
                | Category::Database
                | Category::Broker
                | Category::Network
        )
    }

    /// Name fragments of the infrastructure that plays this role, when it has one.
    pub fn role_names(self) -> &'static [&'static str] {
        match self {
            Category::Dns => &["dns", "coredns", "kube-dns", "dnsmasq", "unbound", "bind"],
            Category::Database => &[
                "db",
                "postgres",
                "postgresql",
                "mysql",
                "mariadb",
                "mongo",
                "mongodb",
                "cassandra",
                "oracle",
                "sql",
                "pg",
            ],
            Category::Broker => &[
                "kafka", "rabbitmq", "rabbit", "nats", "pulsar", "broker", "mq", "activemq",
                "redpanda",
            ],
            // Node-level network agents: the CNI and the service proxy.
            Category::Network => &[
                "calico",
                "calico-node",
                "cilium",
                "cilium-agent",
                "flannel",
                "kube-flannel",
                "weave",
                "weave-net",
                "kube-proxy",
                "kube-router",
                "antrea",
                "antrea-agent",
                "canal",
                "cni",
            ],
            _ => &[],
        }
    }
}

impl From<Category> for &'static str {
    fn from(c: Category) -> Self {
        c.as_str()
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Patterns per category, matched case-insensitively against one record's message.
const PATTERNS: &[(Category, &str)] = &[
    (
        Category::Storage,
        r"no space left on device|enospc|disk (is )?full|disk quota exceeded|insufficient storage|storage (resources are )?insufficient|minimum free drive|(status|code|http|returned|error|response)[ :=]*507\b|507 insufficient|xminiostoragefull|filesystem .*full|volume .*full|out of disk|disk usage (above|exceeds)|(mib|gib|mb|gb|bytes) (free|left|remaining) on|drive .* has \d+ ?(k|m|g)i?b free|ephemeral-storage|diskpressure|disk pressure|nodefs\.available|imagefs\.available|low on resource: ephemeral",
    ),
    (
        Category::ResourceExhaustion,
        r"out ?of ?memory|oomkilled|oom[- ]kill|outofmemoryerror|cannot allocate memory|memory limit exceeded|killed process|exit code 137|signal: killed|crashloopbackoff|back-off restarting failed container|segmentation fault|sigsegv|fatal error: runtime|panic:|core dumped|heap space|assertion failure|mysqld got signal",
    ),
    (
        Category::Dns,
        r"servfail|no such host|name resolution|temporary failure in name|could not resolve|unknownhostexception|getaddrinfo|dns (lookup|resolution|query)|lookup [^ ]+ on [^ ]+: |name or service not known|resolv\.conf|(failed|unable|cannot|could not|couldn't) (to )?resolve|resolver.{0,20}(timeout|timed out|fail|error)",
    ),
    (
        Category::Tls,
        r"certificate (has )?expired|expired certificate|remote error: tls|alert[ _](certificate|bad[ _]certificate)|x509|certificate verify failed|ssl ?handshake|tls handshake|pkix path|cert(ificate)? (is )?not yet valid|unknown (certificate )?authority|cert_has_expired|certificate_expired|bad certificate|sslhandshakeexception",
    ),
    (
        Category::ConnectionPool,
        r"pool (is )?(exhausted|drained)|exhausted (connection )?pool|too many (open )?connections|timeout waiting for (a )?connection|waiting for (an )?available connection|connection is not available|cannot get a connection|remaining connection slots|max_connections|(could not|unable to|failed to|timed out|timeout) (to )?(obtain|acquire|get|checkout|check out)( a| an)?( database| db)? connection|no available connections|too many clients|pool timeout|queuepool limit|pool wait timeout|all connections (are )?in use|active connections? .*max|leak detection",
    ),
    (
        Category::Configuration,
        r"invalid config|configuration (error|invalid|is invalid)|config(uration)? (file )?(not found|missing)|missing required (config|setting|env|environment|key|property|option|field)|unknown (config|configuration|property|option|field|flag)|failed to (load|parse|read) config|configexception|invalid value for|bad configuration|environment variable .* (not set|missing)|unrecognized (option|setting)|malformed config|password authentication failed|authentication failed for|access denied for user|invalid (password|credentials)|login failed for|wrong password",
    ),
    (
        Category::RateLimit,
        r"(status|code|http|returned|error|answered|got|response)[ :=]*429\b|\b429 too many|too many requests|rate.?limit|throttl|quota exceeded|slowdown|requestlimitexceeded|limit exceeded",
    ),
    (
        Category::Database,
        r"deadlock|lock wait timeout|waiting for [a-z ]{0,30}lock|lock timeout|metadata lock|slow query|replication lag|database (is )?(down|unavailable|not available)|the database system is|sqlstate|ora-\d+|could not connect to (the )?(database|server)|statement timeout|query timeout|canceling statement|read-only transaction|database .* (closed|terminated)|page.?cleaner|long semaphore wait|semaphore wait has lasted|slow fdatasync|fsync is taking too long|checkpoints are occurring too frequently|(fsync|fdatasync|flush) took \d|not shut ?down normally|starting crash recovery|database system was interrupted",
    ),
    (
        Category::Broker,
        r"leader_not_available|not_leader|no leader|broker (is )?(down|unavailable|not available)|partition(s)? offline|under.?replicated|isr shrink|queue (is )?full|consumer lag|channel (closed|error)|amqp|connection to (node|broker)|offsets? commit failed|producer (send )?fail|memory (resource limit )?alarm|vm_memory_high_watermark set|publishers will be blocked|connection\.blocked|channel/connection is not open|exception \(50[46]\)",
    ),
    (
        Category::Network,
        r"connection reset|no route to host|network (is )?unreachable|host (is )?unreachable|i/o timeout|connection timed out|connect timed out|etimedout|ehostunreach|econnreset|broken pipe|packet loss|network partition|unreachable|connection refused|econnrefused",
    ),
    (
        Category::BadDeploy,
        r"deploy(ed|ing|ment)? (of )?(version|v\d|release|image|revision)|rolling (out|update)|rollout|new (version|release|image)|image [^ ]+:[^ ]+ (pulled|deployed)|starting version|release v?\d+\.\d+|version v?\d+\.\d+\.\d+ (started|deployed|starting)|starting [a-z][\w.-]* v\d+\.\d+(\.\d+)?\b|migrating schema|running (schema |database |db )?migrations?|applying migration|schema migration|db:migrate|alembic.{0,40}(upgrade|running)|liquibase.{0,40}(update|changeset)|flyway.{0,40}migrat",
    ),
];

fn set() -> &'static RegexSet {
    static SET: OnceLock<RegexSet> = OnceLock::new();
    SET.get_or_init(|| {
        let patterns: Vec<String> = PATTERNS.iter().map(|(_, p)| format!("(?i){p}")).collect();
        // The patterns are constants checked by the unit tests; an empty set (never
        // reached) only turns signatures off.
        RegexSet::new(patterns).unwrap_or_else(|_| RegexSet::empty())
    })
}

/// The fault categories a message's text matches, most specific first (the order of
/// [`Category::ALL`]). Network and deploy markers come last: they accompany others.
pub fn classify(message: &str) -> Vec<Category> {
    // Long records (stack traces) are judged by their first 4 KiB.
    let mut end = message.len().min(4096);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    set()
        .matches(&message[..end])
        .into_iter()
        .filter_map(|i| PATTERNS.get(i).map(|(c, _)| *c))
        .collect()
}

/// Whose certificate a TLS record is about, when its wording says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertOf {
    /// The writer's own: the other end sent an alert rejecting the certificate the
    /// writer presented (an expired client certificate), as TLS libraries word it.
    Writer,
    /// A client's: a server failed to verify a caller's certificate during a handshake.
    Client,
}

/// Whose certificate a TLS record is about: `None` when it reads as the writer failing
/// to verify the server it called (the server's certificate).
pub fn certificate_of(message: &str) -> Option<CertOf> {
    static RX: OnceLock<Option<(regex::Regex, regex::Regex)>> = OnceLock::new();
    let (writer, client) = RX
        .get_or_init(|| {
            let writer = regex::Regex::new(
                r"(?i)alert[ _](certificate[ _]expired|bad[ _]certificate|certificate[ _]unknown|certificate[ _]revoked|certificate[ _]required)|remote error: tls: (bad|expired|revoked|unknown) certificate|received fatal alert: ?(certificate_expired|bad_certificate|certificate_unknown|certificate_revoked|certificate_required)|(my|our|own|client) certificate (has )?expired",
            )
            .ok()?;
            let client = regex::Regex::new(
                r"(?i)tls handshake error from|handshake (failed|error) (from|with) (client|peer|\d)|client certificate (verification|verify) failed|peer did not return a certificate|no client certificate|failed to verify client",
            )
            .ok()?;
            Some((writer, client))
        })
        .as_ref()?;
    if writer.is_match(message) {
        Some(CertOf::Writer)
    } else if client.is_match(message) {
        Some(CertOf::Client)
    } else {
        None
    }
}

/// Whether a record says the service took a new configuration (a reload, a new
/// revision, changed settings): a change, like a release, that can break it.
pub fn config_change(message: &str) -> bool {
    static RX: OnceLock<Option<regex::Regex>> = OnceLock::new();
    RX.get_or_init(|| {
        regex::Regex::new(
            r"(?i)(loaded|loading|applied|applying|new) config(uration)? (revision|version|generation)|config(uration)? (reloaded|changed|updated|applied)|reload(ed|ing) config(uration)?|settings changed|config(map)? .{0,40}(changed|updated)",
        )
        .ok()
    })
    .as_ref()
    .is_some_and(|r| r.is_match(message))
}

/// Whether a record says a schema migration ran: a change to a shared database that
/// can hold its locks.
pub fn schema_change(message: &str) -> bool {
    static RX: OnceLock<Option<regex::Regex>> = OnceLock::new();
    RX.get_or_init(|| {
        regex::Regex::new(
            r"(?i)migrating schema|running (schema |database |db )?migrations?|applying migration|schema migration|db:migrate|alembic.{0,40}(upgrade|running)|liquibase.{0,40}(update|changeset)|flyway.{0,40}migrat|alter table",
        )
        .ok()
    })
    .as_ref()
    .is_some_and(|r| r.is_match(message))
}

/// Whether a record reports what a remote system answered (an HTTP status it
/// received, an exception of a client library) rather than the writer's own state.
pub fn reports_remote(message: &str) -> bool {
    static RX: OnceLock<Option<regex::Regex>> = OnceLock::new();
    RX.get_or_init(|| {
        regex::Regex::new(
            r"(?i)status ?code:? ?\d{3}|response error|\(service: |response from|responded with|returned (status|http|error)|upstream|remote (host|server|end)|server returned|error from (server|remote)|calling |call to |request to |while (connecting|talking|calling)|client error|amazons3exception|s3exception|failed to (call|reach|connect to)",
        )
        .ok()
    })
    .as_ref()
    .is_some_and(|r| r.is_match(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        for (c, p) in PATTERNS {
            assert!(regex::Regex::new(&format!("(?i){p}")).is_ok(), "{c}: {p}");
        }
        assert_eq!(set().len(), PATTERNS.len());
    }

    #[test]
    fn records_get_their_categories() {
        let first = |m: &str| classify(m).first().copied();
        assert_eq!(
            first("write /data/seg-17: no space left on device"),
            Some(Category::Storage)
        );
        assert_eq!(
            first("Storage resources are insufficient for the write operation: drive /data1 has 40 MiB free"),
            Some(Category::Storage)
        );
        assert_eq!(
            first("java.lang.OutOfMemoryError: Java heap space"),
            Some(Category::ResourceExhaustion)
        );
        assert_eq!(
            first("dial tcp: lookup payments on 10.96.0.10:53: server misbehaving"),
            Some(Category::Dns)
        );
        // A framework's exception resolver is not a name resolver.
        assert_eq!(
            first("DefaultHandlerExceptionResolver : Resolved [org.springframework.web.bind.MissingServletRequestParameterException: Required request parameter 'id' is not present]"),
            None
        );
        assert_eq!(
            first("Failed to resolve 'orders-db.prod.svc' (resolver timed out)"),
            Some(Category::Dns)
        );
        assert_eq!(
            first("x509: certificate has expired or is not yet valid"),
            Some(Category::Tls)
        );
        assert_eq!(
            first("HikariPool-1 - Connection is not available, request timed out after 30000ms"),
            Some(Category::ConnectionPool)
        );
        assert_eq!(
            first("invalid config: missing required setting DATABASE_URL"),
            Some(Category::Configuration)
        );
        assert_eq!(
            first("upstream answered 429 Too Many Requests"),
            Some(Category::RateLimit)
        );
        assert_eq!(first("ERROR: deadlock detected"), Some(Category::Database));
        for slow_io in [
            "[Note] [MY-011953] [InnoDB] Page cleaner took 4213ms to flush 2000 and evict 0 pages",
            "InnoDB: page_cleaner: 1000ms intended loop took 5121ms. The settings might not be optimal.",
            "--Thread 139 has waited at buf0flu.cc line 1234 for 241 seconds the semaphore: A long semaphore wait",
            "Asynchronous AOF fsync is taking too long (disk is busy?).",
            "slow fdatasync took=1.2s expected-duration=1s",
            "[ERROR] [MY-012872] [InnoDB] Database was not shutdown normally!",
            "database system was interrupted; last known up at 2025-09-27 02:31:07 UTC",
        ] {
            assert_eq!(first(slow_io), Some(Category::Database), "{slow_io}");
        }
        assert_eq!(
            first("LEADER_NOT_AVAILABLE for topic orders"),
            Some(Category::Broker)
        );
        assert_eq!(
            first("memory resource limit alarm set on node 'rabbit@ip-10-0-1-5'"),
            Some(Category::Broker)
        );
        assert_eq!(
            first("Exception (504) Reason: \"channel/connection is not open\""),
            Some(Category::Broker)
        );
        assert_eq!(
            first("read tcp 10.0.0.1:443: connection reset by peer"),
            Some(Category::Network)
        );
        assert_eq!(
            first("deployed version 2.4.0 (image api:2.4.0)"),
            Some(Category::BadDeploy)
        );
        assert_eq!(first("served /features/user/1 in 8 ms"), None);
        assert_eq!(
            first("process 4584 still waiting for AccessShareLock on relation 25460 of database 16384 after 1000.20 ms"),
            Some(Category::Database)
        );
        assert_eq!(
            first("Starting RatesApplication v1.24.0 using Java 17.0.8 with PID 8207"),
            Some(Category::BadDeploy)
        );
        assert_eq!(
            first("Migrating schema \"public\" to version \"80 - add region column\""),
            Some(Category::BadDeploy)
        );
        assert!(reports_remote(
            "AmazonS3Exception: Storage backend full (Service: Amazon S3; Status Code: 507)"
        ));
        assert!(!reports_remote("drive /data1 has 40 MiB free"));
        assert_eq!(Category::parse("Disk Full"), Some(Category::Storage));
        // Whose certificate: an alert received is about the writer's own; a server's
        // handshake error from a caller is about the caller's; a failed verification
        // of the callee is about the callee's (no side).
        assert_eq!(
            certificate_of("SSLError(1, '[SSL: SSLV3_ALERT_CERTIFICATE_EXPIRED] sslv3 alert certificate expired')"),
            Some(CertOf::Writer)
        );
        assert_eq!(
            certificate_of(
                "Post \"https://wishlist:8443\": remote error: tls: expired certificate"
            ),
            Some(CertOf::Writer)
        );
        assert_eq!(
            certificate_of(
                "javax.net.ssl.SSLHandshakeException: Received fatal alert: certificate_expired"
            ),
            Some(CertOf::Writer)
        );
        assert_eq!(
            certificate_of("http: TLS handshake error from 10.244.3.107:52064: tls: failed to verify certificate: x509: certificate has expired"),
            Some(CertOf::Client)
        );
        assert_eq!(
            certificate_of("x509: certificate has expired or is not yet valid: current time 2025-05-15T03:57:28Z is after 2025-05-15T03:25:43Z"),
            None
        );
        assert!(schema_change(
            "Migrating schema \"public\" to version \"80\""
        ));
        assert!(schema_change(
            "ALTER TABLE orders ADD COLUMN region text DEFAULT 'eu'"
        ));
        assert!(!schema_change("Started RatesApplication in 8.065 seconds"));
        assert_eq!(Category::parse("bad-config"), Some(Category::Configuration));
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
        }
    }
}

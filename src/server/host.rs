//! The `Host` allow-list of a server without an API key. A web page the user opens can
//! make the browser send requests to `127.0.0.1` under a name its attacker controls (DNS
//! rebinding); the browser then sends that name as `Host`. A keyless server answers only
//! the names it is known by: `localhost`, `127.0.0.1`, `::1`, the address it is bound to
//! (when that is one address) and the names given with `--allowed-host`. A server with a
//! key needs no list: a rebinding page does not know the key.
//!
//! `/health` and `/ready` answer every name (probes use the pod's address).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// Which `Host` names a server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPolicy {
    /// Every name (a key is required, or `--allowed-host '*'`).
    Any,
    /// These names only (lower case, no port, IPv6 without brackets).
    Only(Vec<String>),
}

impl HostPolicy {
    /// The policy of a server bound to `addr`: [`HostPolicy::Any`] with a key or when
    /// `extra` holds `*`, else the loopback names, the bound address and `extra`.
    pub fn new(addr: SocketAddr, has_key: bool, extra: &[String]) -> Self {
        if has_key || extra.iter().any(|h| h.trim() == "*") {
            return HostPolicy::Any;
        }
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        if !addr.ip().is_unspecified() {
            names.push(addr.ip().to_string());
        }
        names.extend(extra.iter().map(|h| normalize(h)));
        names.sort();
        names.dedup();
        HostPolicy::Only(names)
    }

    /// Whether a request with this `Host` value (a name, with or without a port) is
    /// answered; a request without one (HTTP/1.0) is: browsers always send one.
    pub fn allows(&self, host: Option<&str>) -> bool {
        match (self, host) {
            (HostPolicy::Any, _) | (_, None) => true,
            (HostPolicy::Only(names), Some(h)) => {
                let h = normalize(h);
                names.contains(&h)
            }
        }
    }
}

/// `Host` without its port, brackets or trailing dot, in lower case.
fn normalize(host: &str) -> String {
    let h = host.trim();
    let name = if let Some(rest) = h.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if h.matches(':').count() == 1 {
        h.split(':').next().unwrap_or(h)
    } else {
        // A bare IPv6 address (allow-list entries are written without brackets).
        h
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Refuses requests whose `Host` the policy does not allow (403).
pub(super) async fn check(
    State(policy): State<Arc<HostPolicy>>,
    req: Request,
    next: Next,
) -> Response {
    if !matches!(req.uri().path(), "/health" | "/ready") {
        let host = req
            .headers()
            .get(header::HOST)
            .map(|v| v.to_str().unwrap_or("\u{fffd}"))
            .or_else(|| req.uri().host());
        if !policy.allows(host) {
            let shown: String = host.unwrap_or("").chars().take(100).collect();
            return ApiError::host_not_allowed(&shown).into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_with_ports_pass_and_others_do_not() {
        let p = HostPolicy::new("127.0.0.1:8080".parse().expect("addr"), false, &[]);
        for ok in [
            "localhost:8080",
            "LOCALHOST",
            "127.0.0.1",
            "127.0.0.1:1",
            "[::1]:8080",
            "localhost.",
        ] {
            assert!(p.allows(Some(ok)), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "127.0.0.2",
            "localhost.evil.example",
            "",
        ] {
            assert!(!p.allows(Some(bad)), "{bad}");
        }
        assert!(p.allows(None));
    }

    #[test]
    fn keys_wildcards_and_extra_names() {
        let addr: SocketAddr = "0.0.0.0:80".parse().expect("addr");
        assert_eq!(HostPolicy::new(addr, true, &[]), HostPolicy::Any);
        assert_eq!(HostPolicy::new(addr, false, &["*".into()]), HostPolicy::Any);
        let p = HostPolicy::new(addr, false, &["Node7.Internal".into()]);
        assert!(p.allows(Some("node7.internal:80")));
        assert!(!p.allows(Some("0.0.0.0")));
        let p = HostPolicy::new("10.1.2.3:80".parse().expect("addr"), false, &[]);
        assert!(p.allows(Some("10.1.2.3:80")));
    }
}

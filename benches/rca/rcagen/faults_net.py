"""Fault templates in the network path: CoreDNS failing, an upstream resolver failing,
expired server and client (mTLS) certificates, a zone cut off by its CNI agent, a
third-party API rate limiting, and a batch job burning a shared API quota."""

from __future__ import annotations

from .faults_base import Template, eff, kubelet_log, on_user_path, users_of
from .sim import Effect
from .topology import Dep, Endpoint, Svc
from .util import Rec, rfc3339


def _apps(topo, roles=("api", "frontend", "worker")):
    return [s for s in topo.services if s.role in roles and s.insts]


class CoreDnsFailure(Template):
    name = "coredns-overload"
    fault_type = "dns_failure"
    category = "dns"
    layouts = ("k8s",)

    def setup(self, topo, onset, t1):
        self.dns = [s for s in topo.services if s.lang == "coredns"][0]
        self.root, self.onset, self.t1 = self.dns.name, onset, t1
        self.p = self.rng.uniform(0.25, 0.7)
        self.loud_candidates = _apps(topo)
        self.description = (f"Both {self.dns.name} replicas were overwhelmed (query flood, OOM restarts); a large share of "
                            f"lookups timed out, so services failed to resolve healthy dependencies and reported them as "
                            f"unreachable by name.")
        return True

    def edge_effect(self, sim, inst, dep, callee, t):
        if t < self.onset or dep.target.role == "external" and False:
            return None
        # JVMs cache successful lookups for 30 s: fewer of their calls resolve
        p = self.p * (0.35 if inst.svc.lang == "java" else 1.0)
        if self.rng.random() >= p:
            return None
        lang = inst.svc.lang
        detail = " on 10.96.0.10:53: read udp %s:%d->10.96.0.10:53: i/o timeout" % (inst.ip, self.rng.randint(30000, 60999)) \
            if lang == "go" else ("EAI_AGAIN" if lang == "node" else "")
        return eff("dns", self.root, latency=5.0 if lang != "java" else 0.01, detail=detail)

    def emit(self, sim):
        rng = sim.rng
        for i, inst in enumerate(self.dns.insts):
            t = self.onset + rng.uniform(20, 120)
            n = 0
            while t < self.t1 - 60:
                kubelet_log(sim, inst, t, "INFO", '"Container exceeded its memory limit, OOMKilled"', {"pod": f"kube-system/{inst.name}",
                            "containerName": "coredns", "exitCode": 137}, logger="kuberuntime_container.go:809")
                up = t + min(300, 10 * 2 ** n) + rng.uniform(1, 4)
                self.down_windows.setdefault(inst, []).append((t, up))
                inst.restarts.append((t, up))
                for j, line in enumerate([".:53", "[INFO] plugin/reload: Running configuration SHA512 = " + rng.hexid(64),
                                          "CoreDNS-1.11.1", "linux/amd64, go1.20.7, ae2bbc2"]):
                    sim.log(inst, Rec(up + j * 0.01, "INFO", line, native={"raw": True}))
                n += 1
                t = up + rng.uniform(40, 200)
            t = self.onset + rng.uniform(1, 10)
            while t < self.t1:
                if not self.down(inst, t):
                    w = Rec(t, "WARN", f'plugin/health: Local health request to "http://:8080/health" took more than 1s: {rng.uniform(1, 4):.6f}s')
                    w.abnormal = True
                    sim.log(inst, w)
                    if rng.chance(0.6):
                        e = Rec(t + 0.3, "ERROR", f"plugin/errors: 2 {rng.pick(['api.paygate.example.com', 'maps.geoapi.example.net', 'sts.amazonaws.com'])}. "
                                f"A: read udp {inst.ip}:{rng.randint(30000, 60999)}->10.0.0.2:53: i/o timeout")
                        e.abnormal = True
                        sim.log(inst, e)
                t += rng.uniform(3, 25)

    def down_path(self, inst):
        return [self.root]


class DnsUpstream(Template):
    name = "dns-upstream-servfail"
    fault_type = "dns_failure"
    category = "dns"
    layouts = ("k8s",)
    needs = {"external"}

    def setup(self, topo, onset, t1):
        self.dns = [s for s in topo.services if s.lang == "coredns"][0]
        ext = [s for s in topo.services if s.role == "external" and users_of(topo, s)]
        if not ext:
            return False
        self.ext = ext
        for e in ext:
            for u in users_of(topo, e):
                for d in u.deps:
                    if d.target is e:
                        d.optional = False
        self.root, self.onset, self.t1 = self.dns.name, onset, t1
        self.loud_candidates = [u for e in ext for u in users_of(topo, e)]
        self.description = (f"{self.dns.name}'s upstream resolver stopped answering: names outside the cluster "
                            f"({', '.join(e.host for e in ext)}) failed with SERVFAIL or timed out while cluster names "
                            f"resolved, so every call to a third-party API failed before it was made.")
        return True

    def edge_effect(self, sim, inst, dep, callee, t):
        if t < self.onset or dep.target not in self.ext or not self.rng.chance(0.85):
            return None
        lang = inst.svc.lang
        detail = " on 10.96.0.10:53: server misbehaving" if lang == "go" else ("EAI_AGAIN" if lang == "node" else "")
        return eff("dns", self.root, latency=self.rng.uniform(0.01, 5.0), detail=detail)

    def emit(self, sim):
        rng = sim.rng
        t = self.onset
        while t < self.t1:
            inst = rng.pick(self.dns.insts)
            e = rng.pick(self.ext)
            r = Rec(t, "ERROR", f"plugin/errors: 2 {e.host}. {rng.pick(['A', 'AAAA'])}: read udp {inst.ip}:{rng.randint(30000, 60999)}"
                    f"->10.0.0.2:53: i/o timeout")
            r.abnormal = True
            sim.log(inst, r)
            if rng.chance(0.3):
                sim.log(inst, Rec(t + 0.001, "INFO", f'{rng.ip()}:{rng.randint(30000, 60999)} - {rng.randint(1, 65535)} "A IN {e.host}. udp '
                                  f'{len(e.host) + 19} false 512" SERVFAIL qr,rd {len(e.host) + 19} 2.00{rng.randint(1000, 9999)}s'))
            t += rng.expovariate(rng.uniform(0.3, 2))


class TlsServerExpired(Template):
    name = "tls-server-cert-expired"
    fault_type = "tls_cert_expiry"
    category = "tls"

    def setup(self, topo, onset, t1):
        c = [s for s in topo.services if s.role == "api" and users_of(topo, s, ("http", "grpc")) and on_user_path(topo, s)]
        if not c:
            return False
        self.svc = self.rng.pick(c)
        self.svc.tls = True
        self.root, self.onset, self.t1 = self.svc.name, onset, t1
        self.not_after = onset
        self.loud_candidates = users_of(topo, self.svc)
        self.traps_natural = []
        self.description = (f"The serving certificate of {self.svc.name} expired at {rfc3339(onset, 0)} (renewal had "
                            f"silently failed); every TLS handshake from its callers failed certificate verification.")
        return True

    def edge_effect(self, sim, inst, dep, callee, t):
        if dep.target is not self.svc or t < self.not_after:
            return None
        lang = inst.svc.lang
        if lang == "java":
            detail = sim_date(self.not_after)
        else:
            detail = f"current time {rfc3339(t, 0)} is after {rfc3339(self.not_after, 0)}"
        return eff("tls", self.root, latency=0.004, detail=detail)

    def emit(self, sim):
        rng = sim.rng
        for inst in self.svc.insts:
            w = Rec(sim.t0 + rng.uniform(1, 60), "WARN", f"TLS certificate for {self.svc.host} expires at {rfc3339(self.not_after, 0)}",
                    logger=f"{self.svc.pkg}.config.TlsConfig" if self.svc.lang == "java" else "", native={"app": True})
            sim.log(inst, w)
            if self.svc.lang != "go":
                continue
            t = self.onset + rng.uniform(0, 2)
            while t < self.t1:
                r = Rec(t, "INFO", f"http: TLS handshake error from {rng.ip()}:{rng.randint(30000, 60999)}: remote error: tls: bad certificate")
                r.abnormal = True
                sim.log(inst, r)
                t += rng.expovariate(1.5)


def sim_date(t):
    from .util import strf
    return strf(t, "%a %b %d %H:%M:%S UTC %Y")


class TlsClientExpired(Template):
    name = "mtls-client-cert-expired"
    fault_type = "tls_cert_expiry"
    category = "tls"

    def setup(self, topo, onset, t1):
        c = [s for s in topo.services if s.role in ("api", "frontend") and on_user_path(topo, s)
             and any(d.kind in ("http", "grpc") for d in s.deps)]
        if not c:
            return False
        self.svc = self.rng.pick(c)
        self.targets = {id(d.target) for d in self.svc.deps if d.kind in ("http", "grpc")}
        for d in self.svc.deps:
            if id(d.target) in self.targets:
                d.target.tls = True
        self.root, self.onset, self.t1 = self.svc.name, onset, t1
        self.loud_candidates = [self.svc] + users_of(topo, self.svc)
        self.description = (f"The mTLS client certificate of {self.svc.name} expired at {rfc3339(onset, 0)}; the services "
                            f"it calls rejected its handshakes, so it reported its (healthy) dependencies as failing.")
        return True

    def edge_effect(self, sim, inst, dep, callee, t):
        if inst.svc is not self.svc or id(dep.target) not in self.targets or t < self.onset:
            return None
        return eff("tls_peer", self.root, latency=0.003)

    def emit(self, sim):
        rng = sim.rng
        for d in self.svc.deps:
            if id(d.target) not in self.targets or d.target.lang != "go":
                continue
            for inst in d.target.insts:
                t = self.onset + rng.uniform(0, 5)
                while t < self.t1:
                    src = rng.pick(self.svc.insts)
                    r = Rec(t, "INFO", f"http: TLS handshake error from {src.ip}:{rng.randint(30000, 60999)}: tls: failed to verify "
                            f"certificate: x509: certificate has expired or is not yet valid: current time {rfc3339(t, 0)} is after "
                            f"{rfc3339(self.onset, 0)}")
                    sim.log(inst, r)
                    t += rng.expovariate(0.8)


class ZonePartition(Template):
    name = "zone-network-partition"
    fault_type = "network_partition"
    category = "network"
    layouts = ("k8s",)

    def setup(self, topo, onset, t1):
        self.cni = [s for s in topo.services if s.role == "cni"][0]
        self.zone = self.rng.pick(topo.zones)
        self.root, self.onset, self.t1 = self.cni.name, onset, t1
        self.partial = True
        self.loud_candidates = [s for s in _apps(topo) if any(i.zone == self.zone for i in s.insts)]
        self.description = (f"Nodes in {self.zone} lost connectivity to the other zones: {self.cni.name} on those nodes "
                            f"lost its BGP/health peers, and every call crossing the zone boundary timed out while "
                            f"traffic inside each zone kept working.")
        return True

    def cut(self, a, b):
        return (a.zone == self.zone) != (b.zone == self.zone)

    def edge_effect(self, sim, inst, dep, callee, t):
        if t < self.onset:
            return None
        other = callee or (dep.target.insts[0] if dep.target.insts else None)
        if other is None or not self.cut(inst, other):
            return None
        return Effect("connect_timeout", latency=min(dep.timeout, self.rng.uniform(1.0, 3.0)), path=[self.root])

    def emit(self, sim):
        rng = sim.rng
        peers = [i for i in self.cni.insts if i.zone != self.zone]
        for inst in self.cni.insts:
            if inst.zone != self.zone:
                continue
            t = self.onset + rng.uniform(0.5, 3)
            for p in peers:
                if self.cni.lang == "calico":
                    r = Rec(t, "INFO", f"Mesh_{p.ip.replace('.', '_')}: State changed to down", native={"bird": True})
                else:
                    r = Rec(t, "WARN", "Unable to reach node", fields={"subsys": "health-server", "nodeName": p.node,
                                                                        "ipAddr": p.ip, "error": "i/o timeout"})
                r.abnormal = True
                sim.log(inst, r)
                t += rng.uniform(0.01, 0.5)
            tt = t
            while tt < self.t1:
                if self.cni.lang == "calico":
                    r = Rec(tt, "WARN", f"Health of BGP peers degraded: {len(peers)} of {len(peers)} peers unreachable",
                            logger="felix/health.go 232")
                else:
                    r = Rec(tt, "WARN", "Node connectivity probe failed", fields={"subsys": "health-server", "probe": "icmp",
                                                                                   "unreachable": len(peers)})
                r.abnormal = True
                sim.log(inst, r)
                kubelet_log(sim, inst, tt + rng.uniform(1, 9), "ERROR", '"Error updating node status, will retry"',
                            {"err": f'error getting node "{inst.node}": Get "https://10.0.0.1:6443/api/v1/nodes/{inst.node}'
                                    f'?timeout=10s": context deadline exceeded'}, logger="kubelet_node_status.go:540")
                tt += rng.uniform(20, 60)


class ExternalRateLimit(Template):
    name = "third-party-rate-limit"
    fault_type = "rate_limit"
    category = "rate_limit"
    needs = {"external"}

    def setup(self, topo, onset, t1):
        ext = [s for s in topo.services if s.role == "external" and users_of(topo, s)]
        if not ext:
            return False
        self.ext = self.rng.pick(ext)
        for u in users_of(topo, self.ext):
            for d in u.deps:
                if d.target is self.ext:
                    d.optional = False
        self.root, self.onset, self.t1 = self.ext.name, onset, t1
        self.loud_candidates = users_of(topo, self.ext)
        self.traps_natural = ["cause_without_logs"]
        self.description = (f"The third-party API {self.ext.host} ({self.ext.name}) started throttling this account "
                            f"(HTTP 429 with Retry-After); callers retried, made it worse, and failed their requests.")
        return True

    def leaf_effect(self, sim, inst, dep, t):
        if dep.target is not self.ext or t < self.onset:
            return None
        p = min(0.9, 0.3 + (t - self.onset) / 600)
        if not self.rng.chance(p):
            return None
        return Effect("ratelimit", status=429, path=[self.root])


class QuotaHogJob(Template):
    name = "batch-job-exhausts-api-quota"
    fault_type = "rate_limit"
    category = "rate_limit"
    needs = {"external"}

    def setup(self, topo, onset, t1):
        ext = [s for s in topo.services if s.role == "external" and users_of(topo, s)
               and any(on_user_path(topo, u) for u in users_of(topo, s))]
        if not ext:
            return False
        self.ext = self.rng.pick(ext)
        for u in users_of(topo, self.ext):
            for d in u.deps:
                if d.target is self.ext:
                    d.optional = False
        base = self.rng.pick(["catalog", "bulk", "backfill", "reindex", "partner"])
        name = f"{base}-{self.rng.pick(['sync', 'import', 'backfill', 'export'])}-job"
        from .build import _app, _instances
        job = _app(self.rng, name, "cron", topo.layout, None, noun=base)
        job.schedule = ""
        job.deps.append(Dep(self.ext, "ext", timeout=10.0, retries=0))
        job.endpoints.append(Endpoint(job, "PROCESS", name, list(job.deps), base_ms=5.0))
        job.ns = topo.ns
        job.host = name
        _instances(self.rng, topo, job, 1)
        topo.services.append(job)
        self.job = job
        self.root, self.onset, self.t1 = job.name, onset, t1
        self.loud_candidates = users_of(topo, self.ext)
        self.description = (f"A new batch job, {job.name}, started at {rfc3339(onset, 0)} and called {self.ext.host} "
                            f"thousands of times, using up the API key's quota that it shares with the online services; "
                            f"their calls were rejected with 429 and user requests failed.")
        return True

    def leaf_effect(self, sim, inst, dep, t):
        if dep.target is not self.ext or t < self.onset + 30:
            return None
        if inst.svc is self.job:
            return Effect("ratelimit", status=429, path=[self.root]) if self.rng.chance(0.3) else None
        return Effect("ratelimit", status=429, path=[self.root, self.ext.name]) if self.rng.chance(0.8) else None

    def emit(self, sim):
        rng, inst = sim.rng, self.job.insts[0]
        from .sim import Ctx
        sim.log(inst, Rec(self.onset, "INFO", f"Starting {self.job.name}: {rng.randint(20000, 90000)} records to enrich",
                          native={"app": True}, logger=f"{self.job.pkg}.jobs.SyncJob", thread="main"))
        t, page = self.onset + 1, 0
        while t < self.t1:
            page += 1
            r = sim.handle(inst, self.job.endpoints[0], t, Ctx(rng.hexid(16), rng.random() < sim.sample), "", client="", job=True)
            if page % 10 == 0 or not r.ok:
                lvl = "INFO" if r.ok else "WARN"
                msg = f"enriched page {page} ({page * 100} records)" if r.ok else f"rate limited by {self.ext.host}, backing off 2s"
                sim.log(inst, Rec(r.t_end, lvl, msg, native={"app": True}, logger=f"{self.job.pkg}.jobs.SyncJob", thread="main"))
            t = r.t_end + (2.0 if not r.ok else rng.uniform(0.02, 0.15))

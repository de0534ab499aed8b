"""Fault templates in the services themselves: out-of-memory crash loops (JVM, gunicorn),
a log flood filling a node's disk, bad configuration (wrong endpoint, stale credentials),
a connection-pool leak, and bad deploys (an exception in a new version, a migration that
locks a shared table)."""

from __future__ import annotations

from .faults_base import (
    Template, crashloop_kubelet, kubelet_log, on_user_path, restart, startup, users_of,
)
from .faults_data import pg
from .sim import Effect
from .util import Rec, rfc3339


def _on_path_apis(topo, langs=None, need=None):
    out = []
    for s in topo.services:
        if s.role not in ("api", "frontend") or not on_user_path(topo, s) or not users_of(topo, s):
            continue
        if langs and s.lang not in langs:
            continue
        if need and not any(d.kind in need for d in s.deps):
            continue
        out.append(s)
    return out


class JvmOom(Template):
    name = "jvm-oom-crashloop"
    fault_type = "oom_crash_loop"
    category = "resource_exhaustion"
    layouts = ("k8s", "compose")

    def setup(self, topo, onset, t1):
        c = _on_path_apis(topo, ("java",))
        if not c:
            return False
        self.svc = self.rng.pick(c)
        n = len(self.svc.insts)
        self.bad = self.svc.insts if n == 1 else self.rng.sample(self.svc.insts, self.rng.randint(1, n - 1))
        self.partial = len(self.bad) < n
        self.root, self.onset, self.t1 = self.svc.name, onset, t1
        self.loud_candidates = users_of(topo, self.svc)
        self.description = (f"{self.svc.name} started leaking heap ({len(self.bad)} of {n} replicas handle the tenant that "
                            f"triggers it); the JVM threw OutOfMemoryError, the container was OOM-killed and restarted "
                            f"in a crash loop, and callers saw refused connections and timeouts.")
        return True

    def server_effect(self, sim, inst, ep, t):
        if inst in self.bad and t >= self.onset and not self.down(inst, t):
            # a heap near its limit spends its time in GC
            return Effect("slow", latency=self.rng.uniform(0.2, 3.0), path=[self.root])
        return None

    def emit(self, sim):
        rng = sim.rng
        for inst in self.bad:
            t = self.onset + rng.uniform(60, 200)
            n = 0
            while t < self.t1 - 30:
                r = Rec(t, "ERROR", "Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception "
                        "[Handler dispatch failed: java.lang.OutOfMemoryError: Java heap space] with root cause",
                        logger="org.apache.catalina.core.ContainerBase.[Tomcat].[localhost].[/].[dispatcherServlet]",
                        thread=f"http-nio-{self.svc.port}-exec-{rng.randint(1, 200)}",
                        exc=["java.lang.OutOfMemoryError: Java heap space",
                             "\tat java.base/java.util.Arrays.copyOf(Arrays.java:3541)",
                             "\tat java.base/java.util.ArrayList.grow(ArrayList.java:237)",
                             f"\tat {self.svc.pkg}.report.ReportAssembler.collect(ReportAssembler.java:{rng.randint(40, 200)})"])
                r.abnormal = True
                sim.recs[inst].append(r)
                kill = t + rng.uniform(0.5, 8)
                back = min(300, 10 * 2 ** n)
                up = kill + back + rng.uniform(15, 40)
                restart(sim, self, inst, kill, up)
                kubelet_log(sim, inst, kill + 0.2, "INFO", '"Container exceeded its memory limit, OOMKilled"',
                            {"pod": f"{inst.svc.ns}/{inst.name}", "containerName": inst.container, "exitCode": 137},
                            logger="kuberuntime_container.go:809")
                kubelet_log(sim, inst, kill, "INFO", f"Memory cgroup out of memory: Killed process {rng.randint(2000, 90000)} (java) "
                            f"total-vm:{rng.randint(6, 9) * 1000000}kB, anon-rss:{rng.randint(1000000, 2000000)}kB, file-rss:"
                            f"{rng.randint(10000, 40000)}kB, shmem-rss:0kB, UID:1000 pgtables:{rng.randint(3000, 9000)}kB oom_score_adj:"
                            f"{rng.randint(900, 999)}", ident="kernel")
                if n:
                    crashloop_kubelet(sim, inst, kill + rng.uniform(1, back), back)
                t = up + rng.uniform(40, 200)
                n += 1


class PythonOom(Template):
    name = "gunicorn-worker-oom"
    fault_type = "oom_crash_loop"
    category = "resource_exhaustion"

    def setup(self, topo, onset, t1):
        c = [s for s in _on_path_apis(topo, ("python",)) if s.fmt == "gunicorn"]
        if not c:
            c = _on_path_apis(topo, ("python",))
            if not c:
                return False
            self.rng.pick(c).fmt = "gunicorn"
            c = [s for s in c if s.fmt == "gunicorn"]
        self.svc = self.rng.pick(c)
        self.svc.fmt_opts = {"otel": self.svc.fmt_opts.get("otel", False)}
        self.root, self.onset, self.t1 = self.svc.name, onset, t1
        self.loud_candidates = users_of(topo, self.svc)
        self.kills: dict = {}
        self.description = (f"A change in request mix made {self.svc.name}'s gunicorn workers grow past the memory limit; "
                            f"the kernel OOM-killed workers mid-request, the master respawned them, and in-flight requests "
                            f"failed or timed out at the callers.")
        return True

    def server_effect(self, sim, inst, ep, t):
        if inst.svc is not self.svc or t < self.onset + 30:
            return None
        if self.rng.chance(0.25):
            return Effect("reset", latency=self.rng.uniform(0.5, 30), path=[self.root], server_log=False)
        return None

    def emit(self, sim):
        rng = sim.rng
        for inst in self.svc.insts:
            t = self.onset + rng.uniform(20, 60)
            while t < self.t1:
                wpid = rng.randint(8, 400)
                if rng.chance(0.5):
                    sim.recs[inst].append(Rec(t - 0.01, "FATAL", f"WORKER TIMEOUT (pid:{wpid})"))
                r = Rec(t, "ERROR", f"Worker (pid:{wpid}) was sent SIGKILL! Perhaps out of memory?")
                r.abnormal = True
                sim.recs[inst].append(r)
                sim.recs[inst].append(Rec(t + rng.uniform(0.05, 0.5), "INFO", f"Booting worker with pid: {rng.randint(400, 900)}"))
                kubelet_log(sim, inst, t - 0.02, "INFO", f"Memory cgroup out of memory: Killed process {rng.randint(2000, 90000)} "
                            f"(gunicorn) total-vm:{rng.randint(900000, 2000000)}kB, anon-rss:{rng.randint(500000, 900000)}kB, "
                            f"file-rss:{rng.randint(1000, 9000)}kB, shmem-rss:0kB, UID:1000 pgtables:{rng.randint(1000, 3000)}kB "
                            f"oom_score_adj:{rng.randint(900, 999)}", ident="kernel")
                t += rng.uniform(8, 60)


class NodeDiskPressure(Template):
    name = "debug-logging-fills-node-disk"
    fault_type = "disk_full"
    category = "storage"
    layouts = ("k8s",)

    def setup(self, topo, onset, t1):
        c = [s for s in topo.services if s.role in ("api", "worker") and s.insts]
        if not c:
            return False
        self.svc = self.rng.pick(c)
        self.inst = self.rng.pick(self.svc.insts)
        self.node = self.inst.node
        self.victims = [i for s in topo.services if s.role in ("api", "frontend", "worker") and s is not self.svc
                        for i in s.insts if i.node == self.node]
        if not self.victims:
            return False
        self.root, self.onset, self.t1 = self.svc.name, onset, t1
        self.evict_at = onset + self.rng.uniform(240, 600)
        self.partial = True
        self.loud_candidates = []
        self.traps_natural = ["loud_cause"]
        self.description = (f"{self.svc.name} was redeployed with DEBUG logging at {rfc3339(onset, 0)} and wrote logs fast "
                            f"enough to fill {self.node}'s ephemeral storage; the kubelet started evicting pods on that "
                            f"node (other services' replicas), whose callers then failed.")
        return True

    def down_path(self, inst):
        return [self.root, inst.svc.name]

    def emit(self, sim):
        rng = sim.rng
        t = self.onset
        while t < self.evict_at + 30:
            r = Rec(t, "DEBUG", rng.pick([f"cache lookup key={rng.hexid(6)} hit={rng.choice(['true', 'false'])}",
                                          f"serialized payload bytes={rng.randint(200, 90000)}",
                                          f"sql: SELECT * FROM items WHERE id={rng.randint(1, 99999)} rows=1"]),
                    logger=f"{self.svc.pkg}.debug.Trace" if self.svc.lang == "java" else "", native={"app": True},
                    thread="http-nio-8080-exec-1" if self.svc.lang == "java" else "")
            r.abnormal = True
            sim.recs[self.inst].append(r)
            t += rng.expovariate(60)
        k = self.inst
        kubelet_log(sim, k, self.evict_at - 20, "WARN", '"Eviction manager: attempting to reclaim"',
                    {"resourceName": "ephemeral-storage"}, logger="eviction_manager.go:366")
        kubelet_log(sim, k, self.evict_at - 19, "INFO", '"Eviction manager: must evict pod(s) to reclaim"',
                    {"resourceName": "ephemeral-storage"}, logger="eviction_manager.go:377")
        for i, v in enumerate(self.victims + [self.inst]):
            te = self.evict_at + i * rng.uniform(2, 10)
            kubelet_log(sim, k, te, "INFO", '"Eviction manager: pod is evicted successfully"', {"pod": f"{v.svc.ns}/{v.name}"},
                        logger="eviction_manager.go:595")
            up = te + rng.uniform(30, 120)
            self.down_windows.setdefault(v, []).append((te, up))
            v.restarts.append((te, up))
            startup(sim, v, up - 5, up)


class BadConfigEndpoint(Template):
    name = "bad-config-wrong-endpoint"
    fault_type = "bad_config"
    category = "configuration"

    def setup(self, topo, onset, t1):
        c = _on_path_apis(topo, None, ("redis", "sql", "http"))
        if not c:
            return False
        self.svc = self.rng.pick(c)
        deps = [d for d in self.svc.deps if d.kind in ("redis", "sql", "http") and not d.optional]
        if not deps:
            return False
        self.dep = self.rng.pick(deps)
        self.wrong_port = self.rng.chance(0.5)
        self.root, self.onset, self.t1 = self.svc.name, onset, t1
        self.t_new = {i: onset + k * self.rng.uniform(20, 60) for k, i in enumerate(self.svc.insts)}
        self.loud_candidates = users_of(topo, self.svc)
        what = "port" if self.wrong_port else "host name"
        self.description = (f"A configuration change rolled out to {self.svc.name} at {rfc3339(onset, 0)} set a wrong "
                            f"{what} for {self.dep.target.name}; the new pods could not reach it and reported it as down, "
                            f"although {self.dep.target.name} was healthy.")
        return True

    def edge_effect(self, sim, inst, dep, callee, t):
        if inst.svc is not self.svc or dep is not self.dep or t < self.t_new.get(inst, 1e18):
            return None
        host = self.dep.target.host
        if self.wrong_port:
            port = self.dep.target.port + self.rng.choice([1, 10, 1000])
            k = {"sql": "db", "redis": "redis"}.get(dep.kind, "refused")
            return Effect(k, latency=0.002, path=[self.root], host=host, port=port, detail="")
        bad = host.replace(self.dep.target.name, self.dep.target.name + self.rng.pick(["-primary", "-v2", "-internal"]), 1)
        lang = inst.svc.lang
        detail = ": no such host" if lang == "go" else ("ENOTFOUND" if lang == "node" else "Name or service not known")
        return Effect("dns", latency=0.01, path=[self.root], host=bad, detail=detail if lang != "go" else " on 10.96.0.10:53: no such host")

    def emit(self, sim):
        for inst, t in self.t_new.items():
            restart(sim, self, inst, t - 8, t)
            sim.recs[inst].append(Rec(t + 0.001, "INFO", f"Loaded configuration revision {sim.rng.randint(100, 999)} "
                                      f"({self.dep.target.name} settings changed)", logger=f"{self.svc.pkg}.config.AppConfig",
                                      thread="main", native={"app": True}))


class BadConfigCredentials(Template):
    name = "bad-config-stale-db-password"
    fault_type = "bad_config"
    category = "configuration"
    needs = {"postgres"}

    def setup(self, topo, onset, t1):
        c = [s for s in _on_path_apis(topo, None, ("sql",)) if any(d.kind == "sql" and d.target.lang == "postgres" for d in s.deps)]
        if not c:
            return False
        self.svc = self.rng.pick(c)
        self.dep = [d for d in self.svc.deps if d.kind == "sql" and d.target.lang == "postgres"][0]
        self.db = self.dep.target
        self.user = self.svc.name.replace("-", "_")
        self.root, self.onset, self.t1 = self.svc.name, onset, t1
        self.t_new = {i: onset + k * self.rng.uniform(15, 45) for k, i in enumerate(self.svc.insts)}
        self.loud_candidates = users_of(topo, self.svc)
        self.description = (f"{self.svc.name} was restarted at {rfc3339(onset, 0)} with a secret that still held the old "
                            f"database password; {self.db.name} rejected every login from it (password authentication "
                            f"failed) while serving all other clients normally.")
        return True

    def edge_effect(self, sim, inst, dep, callee, t):
        if inst.svc is not self.svc or dep is not self.dep or t < self.t_new.get(inst, 1e18):
            return None
        return Effect("db", latency=0.01, path=[self.root], detail=f'FATAL: password authentication failed for user "{self.user}"')

    def emit(self, sim):
        rng = sim.rng
        for inst, t in self.t_new.items():
            restart(sim, self, inst, t - 6, t)
        db = self.db.insts[0]
        t = self.onset + 1
        while t < self.t1:
            pg(sim, db, t, "FATAL", f'password authentication failed for user "{self.user}"', who=f"{self.user}@{self.db.db_name}",
               extra=[("DETAIL", 'Connection matched file "/var/lib/postgresql/data/pg_hba.conf" line 100: "host all all all scram-sha-256"')])
            t += rng.expovariate(rng.uniform(0.5, 2.5))


class PoolLeak(Template):
    name = "connection-pool-leak"
    fault_type = "connection_pool_leak"
    category = "connection_pool"

    def setup(self, topo, onset, t1):
        c = _on_path_apis(topo, ("java", "python", "go"), ("sql",))
        if not c:
            return False
        self.svc = self.rng.pick(c)
        self.root, self.onset, self.t1 = self.svc.name, onset, t1
        self.exhausted = onset + self.rng.uniform(120, 420)
        self.loud_candidates = users_of(topo, self.svc)
        self.description = (f"A code path in {self.svc.name} stopped returning database connections to its pool; the pool "
                            f"drained over a few minutes, then every query waited for the pool timeout, so its callers "
                            f"timed out. The database itself stayed healthy.")
        return True

    def edge_effect(self, sim, inst, dep, callee, t):
        if inst.svc is not self.svc or dep.kind != "sql" or t < self.exhausted:
            return None
        if t < self.exhausted + 60 and not self.rng.chance((t - self.exhausted) / 60):
            return None
        return Effect("pool", latency=30.0 if self.svc.lang != "go" else 10.0, path=[self.root], detail="30000")

    def emit(self, sim):
        rng = sim.rng
        if self.svc.lang != "java":
            return
        for inst in self.svc.insts:
            t = self.onset + rng.uniform(5, 60)
            while t < self.t1:
                w = Rec(t, "WARN", f"Connection leak detection triggered for org.postgresql.jdbc.PgConnection@{rng.hexid(4)} on "
                        f"thread http-nio-{self.svc.port}-exec-{rng.randint(1, 200)}, stack trace follows",
                        logger="com.zaxxer.hikari.pool.ProxyLeakTask", thread="HikariPool-1 housekeeper",
                        exc=["java.lang.Exception: Apparent connection leak detected",
                             f"\tat {self.svc.pkg}.repository.ExportRepository.streamAll(ExportRepository.java:{rng.randint(40, 200)})",
                             f"\tat {self.svc.pkg}.web.ExportController.export(ExportController.java:{rng.randint(30, 90)})",
                             "\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)"])
                w.abnormal = True
                sim.log(inst, w)
                t += rng.uniform(20, 90)


class BadDeployException(Template):
    name = "bad-deploy-exception"
    fault_type = "bad_deploy"
    category = "bad_deploy"

    def setup(self, topo, onset, t1):
        c = _on_path_apis(topo)
        if not c:
            return False
        self.svc = self.rng.pick(c)
        n = len(self.svc.insts)
        self.canary = n >= 3 and self.rng.chance(0.5)
        self.bad = [self.svc.insts[0]] if self.canary else list(self.svc.insts)
        self.partial = self.canary
        old = self.svc.version
        parts = old.split(".")
        self.new_version = f"{parts[0]}.{int(parts[1]) + 1}.0"
        self.t_new = {i: onset + k * self.rng.uniform(20, 50) for k, i in enumerate(self.bad)}
        self.ep = self.rng.pick(self.svc.endpoints)
        self.root, self.onset, self.t1 = self.svc.name, onset, t1
        self.loud_candidates = users_of(topo, self.svc)
        lang = self.svc.lang
        self.etype, self.emsg = {
            "java": ("java.lang.NullPointerException", 'Cannot invoke "String.length()" because "currency" is null'),
            "python": ("KeyError", "'currency'"),
            "node": ("TypeError", "Cannot read properties of undefined (reading 'currency')"),
            "go": ("", "runtime error: invalid memory address or nil pointer dereference")}[lang]
        self.description = (f"Version {self.new_version} of {self.svc.name} was rolled out{' as a canary' if self.canary else ''} "
                            f"at {rfc3339(onset, 0)}; it fails on {self.ep.method} {self.ep.route} with "
                            f"{self.etype or 'a nil pointer panic'}, so requests through that endpoint return 500.")
        return True

    def server_effect(self, sim, inst, ep, t):
        if inst not in self.t_new or t < self.t_new[inst] or ep is not self.ep:
            return None
        return Effect("http", status=500, path=[self.root], detail=self.emsg if self.etype else f"panic recovered: {self.emsg}",
                      etype=self.etype, latency=0.002)

    def emit(self, sim):
        for inst, t in self.t_new.items():
            inst.version = self.new_version
            restart(sim, self, inst, t - 10, t)
        for inst in self.svc.insts:
            if inst not in self.t_new:
                continue


class BadDeployMigration(Template):
    name = "bad-deploy-migration-lock"
    fault_type = "bad_deploy"
    category = "bad_deploy"
    needs = {"postgres"}

    def setup(self, topo, onset, t1):
        dbs = [d for d in topo.services if d.lang == "postgres" and len(users_of(topo, d)) >= 2]
        if not dbs:
            c = [d for d in topo.services if d.lang == "postgres" and users_of(topo, d)]
            apis = [s for s in topo.services if s.role == "api" and on_user_path(topo, s)]
            if not c or len(apis) < 2:
                return False
            db = c[0]
            for a in apis:
                if not any(d.target is db for d in a.deps):
                    from .faults_base import ensure_dep
                    ensure_dep(topo, a, db, "sql", timeout=10.0)
                    break
            dbs = [db]
        self.db = self.rng.pick(dbs)
        users = users_of(topo, self.db)
        self.svc = self.rng.pick(users)
        self.others = [u for u in users if u is not self.svc]
        self.root, self.onset, self.t1 = self.svc.name, onset, t1
        self.lock_end = onset + self.rng.uniform(400, 1200)
        self.loud_candidates = self.others
        self.table = f"{self.db.db_name}_items"
        self.description = (f"The {rfc3339(onset, 0)} deploy of {self.svc.name} ran a schema migration (ALTER TABLE "
                            f"{self.table} ... with a default) that held an ACCESS EXCLUSIVE lock for minutes; every other "
                            f"service querying {self.table} on {self.db.name} queued behind it and timed out.")
        return True

    def leaf_effect(self, sim, inst, dep, t):
        if dep.target is not self.db or not (self.onset + 5 <= t < self.lock_end) or inst.svc is self.svc:
            return None
        return Effect("slow", latency=self.rng.uniform(5, 40), path=[self.root, self.db.name])

    def emit(self, sim):
        rng = sim.rng
        inst = self.svc.insts[0]
        restart(sim, self, inst, self.onset - 15, self.onset + 2)
        lg = "org.flywaydb.core.internal.command.DbMigrate" if self.svc.lang == "java" else ""
        sim.recs[inst].append(Rec(self.onset + 2.5, "INFO", f'Migrating schema "public" to version "{rng.randint(40, 90)} - add '
                                  f'{self.table} region column"', logger=lg, thread="main", native={"app": True}))
        sim.recs[inst].append(Rec(self.lock_end + 1, "INFO", f'Successfully applied 1 migration to schema "public", now at version '
                                  f'v{rng.randint(40, 90)} (execution time {int((self.lock_end - self.onset) // 60):02d}:'
                                  f'{int((self.lock_end - self.onset) % 60):02d}.{rng.randint(100, 999)}s)', logger=lg, thread="main",
                                  native={"app": True}))
        db = self.db.insts[0]
        hold = rng.randint(3000, 30000)
        t = self.onset + 6
        while t < self.lock_end:
            pid = rng.randint(3000, 30000)
            pg(sim, db, t, "LOG", f"process {pid} still waiting for AccessShareLock on relation {rng.randint(16000, 30000)} of "
               f"database 16384 after 1000.{rng.randint(10, 99)} ms", pid=pid, who=f"app@{self.db.db_name}",
               extra=[("DETAIL", f"Process holding the lock: {hold}. Wait queue: {pid}."),
                      ("STATEMENT", f"SELECT * FROM {self.table} WHERE id = $1")])
            t += rng.expovariate(rng.uniform(0.5, 2))
        pg(sim, db, self.lock_end, "LOG", f"duration: {(self.lock_end - self.onset) * 1000:.3f} ms  statement: ALTER TABLE {self.table} "
           f"ADD COLUMN region text NOT NULL DEFAULT 'eu'", pid=hold, who=f"migrator@{self.db.db_name}")


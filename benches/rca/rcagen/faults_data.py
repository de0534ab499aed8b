"""Fault templates in stores and brokers: PostgreSQL and MySQL down or slow, disks filling
up under PostgreSQL, MinIO and Redis, a Kafka broker failing, RabbitMQ's memory alarm."""

from __future__ import annotations

from .faults_base import Template, eff, ensure_dep, on_user_path, users_of
from .sim import Effect
from .util import Rec, rfc3339

PG_LEVEL = {"LOG": "INFO", "WARNING": "WARN", "ERROR": "ERROR", "FATAL": "FATAL", "PANIC": "FATAL",
            "HINT": "INFO", "DETAIL": "INFO"}


def pg(sim, inst, t, lvl, msg, extra=None, pid=None, who=None, abnormal=True):
    r = Rec(t, PG_LEVEL[lvl], msg, native={"pglevel": lvl, "pid": pid or sim.rng.randint(200, 9000),
                                           "extra": extra or [], "who": who})
    r.abnormal = abnormal
    sim.log(inst, r)


def _stores(topo, lang):
    return [s for s in topo.services if s.lang == lang and users_of(topo, s) and on_user_path(topo, s)]


class PgCrash(Template):
    name = "postgres-crash-recovery"
    fault_type = "database_down"
    category = "database"
    needs = {"postgres"}

    def setup(self, topo, onset, t1):
        c = _stores(topo, "postgres")
        if not c:
            return False
        self.db = self.rng.pick(c)
        self.root, self.onset = self.db.name, onset
        a = onset + self.rng.uniform(0.5, 2)
        self.windows = [(a, a + self.rng.uniform(100, 320))]
        if self.rng.chance(0.5) and self.windows[0][1] + 300 < t1:
            b = self.windows[0][1] + self.rng.uniform(120, 400)
            self.windows.append((b, b + self.rng.uniform(60, 200)))
        self.loud_candidates = users_of(topo, self.db)
        self.description = (f"A PostgreSQL backend of {self.db.name} was killed (signal 9) by the kernel's OOM killer; the "
                            f"postmaster restarted all backends and ran crash recovery, refusing connections while in "
                            f"recovery mode, so every service using {self.db.db_name} failed its queries.")
        return True

    def leaf_effect(self, sim, inst, dep, t):
        if dep.target is not self.db:
            return None
        for a, b in self.windows:
            if a - 0.5 <= t < a:
                return eff("db", self.root, detail="FATAL: terminating connection because of crash of another server process")
            if a <= t < b:
                return eff("db", self.root, detail="FATAL: the database system is in recovery mode", latency=0.003)
        return None

    def emit(self, sim):
        inst, rng = self.db.insts[0], sim.rng
        for a, b in self.windows:
            victim = rng.randint(3000, 30000)
            pg(sim, inst, a - 0.4, "LOG", f"server process (PID {victim}) was terminated by signal 9: Killed", pid=1,
               extra=[("DETAIL", f"Failed process was running: SELECT * FROM {self.db.db_name}_items WHERE tenant_id = $1 ORDER BY created_at")])
            pg(sim, inst, a - 0.39, "LOG", "terminating any other active server processes", pid=1)
            pg(sim, inst, a - 0.2, "LOG", "all server processes terminated; reinitializing", pid=1)
            pg(sim, inst, a, "LOG", f"database system was interrupted; last known up at {rfc3339(a - 280, 0).replace('T', ' ').replace('Z', ' UTC')}", pid=1001)
            pg(sim, inst, a + 0.01, "LOG", "database system was not properly shut down; automatic recovery in progress", pid=1001)
            pg(sim, inst, a + 0.05, "LOG", f"redo starts at 0/{rng.hexid(4).upper()}", pid=1001)
            t = a + 0.1
            while t < b:
                pg(sim, inst, t, "FATAL", "the database system is in recovery mode",
                   who=f"app@{self.db.db_name}")
                t += rng.expovariate(rng.uniform(0.8, 3.0))
            pg(sim, inst, b - 0.05, "LOG", f"redo done at 0/{rng.hexid(4).upper()} system usage: CPU: user: {rng.uniform(1, 60):.2f} s, "
               f"system: {rng.uniform(1, 20):.2f} s, elapsed: {b - a:.2f} s", pid=1001)
            pg(sim, inst, b, "LOG", "database system is ready to accept connections", pid=1)


class MysqlCrash(Template):
    name = "mysql-crash-loop"
    fault_type = "database_down"
    category = "database"
    needs = {"mysql"}

    def setup(self, topo, onset, t1):
        c = _stores(topo, "mysql")
        if not c:
            return False
        self.db = self.rng.pick(c)
        self.root, self.onset, self.t1 = self.db.name, onset, t1
        self.loud_candidates = users_of(topo, self.db)
        self.description = (f"{self.db.name} (MySQL) hit an I/O error on its data volume and InnoDB aborted; mysqld "
                            f"restarts, runs recovery and crashes again, so its clients lose their connections.")
        return True

    def leaf_effect(self, sim, inst, dep, t):
        if dep.target is self.db and self.down(self.db.insts[0], t):
            return eff("db", self.root, detail="Communications link failure")
        return None

    def emit(self, sim):
        inst, rng = self.db.insts[0], sim.rng
        t = self.onset
        n = 0
        while t < self.t1 - 30:
            r = Rec(t, "ERROR", "Operating system error number 5 in a file operation.", native={"code": 12592, "sub": "InnoDB", "prio": "ERROR"})
            r.abnormal = True
            sim.log(inst, r)
            sim.log(inst, Rec(t + 0.001, "ERROR", "Error number 5 means 'Input/output error'", native={"code": 12596, "sub": "InnoDB", "prio": "ERROR"}))
            sim.log(inst, Rec(t + 0.002, "ERROR", f"Assertion failure: fil0fil.cc:{rng.randint(5000, 8000)} thread {rng.randint(10 ** 14, 10 ** 15)}",
                              native={"code": 13183, "sub": "InnoDB", "prio": "ERROR"}))
            up = t + rng.uniform(20, 60) + 10 * 2 ** min(n, 4)
            self.down_windows.setdefault(inst, []).append((t, up))
            inst.restarts.append((t, up))
            steps = [("System", 10116, "Server", f"/usr/sbin/mysqld (mysqld 8.0.36) starting as process 1"),
                     ("System", 13576, "InnoDB", "InnoDB initialization has started."),
                     ("Note", 12550, "InnoDB", "Database was not shutdown normally!"),
                     ("Note", 13527, "InnoDB", "Starting crash recovery."),
                     ("System", 13577, "InnoDB", "InnoDB initialization has ended."),
                     ("System", 10931, "Server", "/usr/sbin/mysqld: ready for connections. Version: '8.0.36'  socket: "
                      "'/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server - GPL.")]
            for i, (prio, code, sub, msg) in enumerate(steps):
                sim.log(inst, Rec(up - 8 + i * 1.5, "INFO", msg, native={"code": code, "sub": sub, "prio": prio}))
            t = up + rng.uniform(60, 240)
            n += 1


class PgSlow(Template):
    name = "postgres-slow-io"
    fault_type = "database_slow"
    category = "database"
    needs = {"postgres"}

    def setup(self, topo, onset, t1):
        c = _stores(topo, "postgres")
        if not c:
            return False
        self.db = self.rng.pick(c)
        self.root, self.onset, self.t1 = self.db.name, onset, t1
        self.ramp = self.rng.uniform(120, 400)
        self.peak = self.rng.uniform(4, 14)
        self.statement_timeouts = self.rng.chance(0.4)
        self.loud_candidates = users_of(topo, self.db)
        self.description = (f"{self.db.name} (PostgreSQL) became slow: its volume's I/O saturated (checkpoints every few "
                            f"seconds, long lock waits), queries took seconds and its callers timed out.")
        return True

    def extra(self, t):
        if t < self.onset:
            return 0.0
        return self.peak * min(1.0, (t - self.onset) / self.ramp) * self.rng.uniform(0.4, 1.3)

    def leaf_effect(self, sim, inst, dep, t):
        if dep.target is not self.db or t < self.onset:
            return None
        return eff("slow", self.root, latency=self.extra(t))

    def emit(self, sim):
        inst, rng = self.db.insts[0], sim.rng
        t = self.onset + rng.uniform(5, 30)
        while t < self.t1:
            pg(sim, inst, t, "LOG", f"checkpoints are occurring too frequently ({rng.randint(4, 14)} seconds apart)", pid=27,
               extra=[("HINT", 'Consider increasing the configuration parameter "max_wal_size".')])
            t += rng.uniform(20, 60)
        t = self.onset + rng.uniform(10, 40)
        db = self.db.db_name
        while t < self.t1:
            d = max(500.0, self.extra(t) * 1000)
            pid = rng.randint(3000, 30000)
            pg(sim, inst, t, "LOG", f"duration: {d:.3f} ms  execute <unnamed>: SELECT * FROM {db}_items WHERE id = $1",
               pid=pid, who=f"app@{db}", extra=[("DETAIL", f"parameters: $1 = '{rng.randint(1000, 99999)}'")])
            if rng.chance(0.25):
                pg(sim, inst, t + 0.01, "LOG", f"process {pid} still waiting for ShareLock on transaction {rng.randint(10 ** 6, 10 ** 7)} "
                   f"after 1000.{rng.randint(10, 99)} ms", pid=pid, who=f"app@{db}",
                   extra=[("DETAIL", f"Process holding the lock: {rng.randint(3000, 30000)}. Wait queue: {pid}."),
                          ("CONTEXT", f'while updating tuple (0,{rng.randint(1, 90)}) in relation "{db}_items"'),
                          ("STATEMENT", f"UPDATE {db}_items SET status = $1 WHERE id = $2")])
            if self.statement_timeouts and d > 5000 and rng.chance(0.3):
                pg(sim, inst, t + 0.02, "ERROR", "canceling statement due to statement timeout", pid=pid, who=f"app@{db}",
                   extra=[("STATEMENT", f"SELECT * FROM {db}_items WHERE id = $1")])
            t += rng.expovariate(rng.uniform(0.3, 1.5))


class MysqlSlow(Template):
    name = "mysql-slow-flush"
    fault_type = "database_slow"
    category = "database"
    needs = {"mysql"}

    def setup(self, topo, onset, t1):
        c = _stores(topo, "mysql")
        if not c:
            return False
        self.db = self.rng.pick(c)
        self.root, self.onset, self.t1 = self.db.name, onset, t1
        self.peak = self.rng.uniform(3, 12)
        self.loud_candidates = users_of(topo, self.db)
        self.description = (f"{self.db.name} (MySQL) stalled on a saturated disk: InnoDB's page cleaner fell far behind, "
                            f"queries waited seconds and its callers timed out; MySQL itself only logged notes and warnings.")
        return True

    def leaf_effect(self, sim, inst, dep, t):
        if dep.target is not self.db or t < self.onset:
            return None
        return eff("slow", self.root, latency=self.peak * min(1.0, (t - self.onset) / 180) * self.rng.uniform(0.5, 1.3))

    def emit(self, sim):
        inst, rng = self.db.insts[0], sim.rng
        t = self.onset + rng.uniform(2, 20)
        while t < self.t1:
            r = Rec(t, "INFO", f"Page cleaner took {rng.randint(4000, 30000)}ms to flush {rng.randint(50, 2000)} and evict 0 pages",
                    native={"code": 11953, "sub": "InnoDB", "prio": "Note", "thread": 0})
            r.abnormal = True
            sim.log(inst, r)
            if rng.chance(0.3):
                w = Rec(t + 1, "WARN", f"A long semaphore wait: --Thread {rng.randint(10 ** 14, 10 ** 15)} has waited at "
                        f"buf0flu.cc line {rng.randint(1000, 3000)} for {rng.randint(240, 900)} seconds the semaphore",
                        native={"code": 12985, "sub": "InnoDB", "thread": 0})
                w.abnormal = True
                sim.log(inst, w)
            t += rng.uniform(15, 70)


class PgDiskFull(Template):
    name = "postgres-disk-full"
    fault_type = "disk_full"
    category = "storage"
    needs = {"postgres"}

    def setup(self, topo, onset, t1):
        c = _stores(topo, "postgres")
        if not c:
            return False
        self.db = self.rng.pick(c)
        self.root, self.onset, self.t1 = self.db.name, onset, t1
        self.panic = onset + self.rng.uniform(30, 180)
        self.loud_candidates = users_of(topo, self.db)
        self.description = (f"The data volume of {self.db.name} (PostgreSQL) filled up: inserts failed with 'No space left "
                            f"on device', then a WAL write hit the full disk, PostgreSQL PANICked and could not restart.")
        return True

    def leaf_effect(self, sim, inst, dep, t):
        if dep.target is not self.db or t < self.onset:
            return None
        if t < self.panic:
            return eff("db", self.root, detail=f'ERROR: could not extend file "base/16384/{self.rng.randint(16000, 30000)}": '
                                                  "No space left on device") if self.rng.chance(0.5) else None
        return eff("db", self.root)

    def down(self, inst, t):
        return [self.root] if inst.svc is self.db and t >= self.panic else None

    def emit(self, sim):
        inst, rng, db = self.db.insts[0], sim.rng, self.db.db_name
        t = self.onset
        while t < self.panic:
            pg(sim, inst, t, "ERROR", f'could not extend file "base/16384/{rng.randint(16000, 30000)}": No space left on device',
               who=f"app@{db}", extra=[("HINT", "Check free disk space."),
                                       ("STATEMENT", f"INSERT INTO {db}_events (id, payload, created_at) VALUES ($1, $2, now())")])
            t += rng.expovariate(1.0)
        pg(sim, inst, self.panic, "PANIC", f'could not write to file "pg_wal/xlogtemp.{rng.randint(30, 999)}": No space left on device', pid=31)
        pg(sim, inst, self.panic + 0.2, "LOG", "WAL writer process (PID 31) was terminated by signal 6: Aborted", pid=1)
        pg(sim, inst, self.panic + 0.21, "LOG", "terminating any other active server processes", pid=1)
        pg(sim, inst, self.panic + 0.5, "LOG", "all server processes terminated; reinitializing", pid=1)
        pg(sim, inst, self.panic + 0.6, "FATAL", 'could not write lock file "postmaster.pid": No space left on device', pid=1)
        inst.restarts.append((self.panic + 0.7, self.t1 + 1))


class MinioDiskFull(Template):
    name = "minio-drive-full"
    fault_type = "disk_full"
    category = "storage"
    needs = {"minio"}

    def setup(self, topo, onset, t1):
        store = [s for s in topo.services if s.lang == "minio"]
        if not store:
            return False
        self.store = store[0]
        users = users_of(topo, self.store)
        apis = [s for s in topo.services if s.role == "api" and on_user_path(topo, s)]
        if not any(on_user_path(topo, u) for u in users) and apis:
            ensure_dep(topo, self.rng.pick(apis), self.store, "s3", timeout=30.0, retries=2)
        self.root, self.onset, self.t1 = self.store.name, onset, t1
        self.loud_candidates = users_of(topo, self.store)
        self.description = (f"The drives of {self.store.name} (MinIO) reached the minimum free space threshold; every "
                            f"PutObject failed with 507 XMinioStorageFull and the services writing objects failed.")
        return True

    def leaf_effect(self, sim, inst, dep, t):
        if dep.target is not self.store or t < self.onset:
            return None
        return Effect("s3", status=507, path=[self.root], detail="XMinioStorageFull: Storage backend has reached its "
                      "minimum free drive threshold. Please delete a few objects to proceed.")

    def emit(self, sim):
        rng = sim.rng
        dep_id = rng.uuid()
        t = self.onset
        while t < self.t1:
            inst = rng.pick(self.store.insts)
            r = Rec(t, "ERROR", f"Storage resources are insufficient for the write operation warehouse/objects/{rng.hexid(6)}.bin (cmd.StorageFull)",
                    native={"kind": "ALL", "block": {"api": f"PutObject(bucket=warehouse, object=objects/{rng.hexid(6)}.bin)",
                                                     "deployment": dep_id, "request_id": rng.hexid(8).upper(),
                                                     "remote": rng.ip(), "host": f"{self.store.host}:9000",
                                                     "ua": "aws-sdk-java/2.25.11", "args": {"bucket": "warehouse"},
                                                     "frames": ["internal/logger/logger.go:268:logger.LogIf()",
                                                                "cmd/object-handlers.go:2100:cmd.objectAPIHandlers.PutObjectHandler()",
                                                                "net/http/server.go:2136:http.HandlerFunc.ServeHTTP()"]}})
            r.abnormal = True
            sim.log(inst, r)
            t += rng.expovariate(rng.uniform(0.2, 1.0))


class RedisMisconf(Template):
    name = "redis-rdb-disk-full"
    fault_type = "disk_full"
    category = "storage"
    needs = {"redis"}

    def setup(self, topo, onset, t1):
        c = [s for s in topo.services if s.lang == "redis" and users_of(topo, s)]
        if not c:
            return False
        self.redis = c[0]
        users = users_of(topo, self.redis)
        for u in users:
            for d in u.deps:
                if d.target is self.redis and self.rng.chance(0.7):
                    d.optional = False
        self.root, self.onset, self.t1 = self.redis.name, onset, t1
        self.loud_candidates = users
        self.description = (f"The volume under {self.redis.name} (Redis) filled up, background RDB saves failed with 'No "
                            f"space left on device', and Redis (stop-writes-on-bgsave-error) rejected every write with MISCONF.")
        return True

    def leaf_effect(self, sim, inst, dep, t):
        if dep.target is not self.redis or t < self.onset + 2 or not self.rng.chance(0.55):
            return None
        return eff("redis", self.root, detail="MISCONF Redis is configured to save RDB snapshots, but it's currently unable "
                   "to persist to disk. Commands that may modify the data set are disabled, because this instance is "
                   "configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error "
                   "option). Please check the Redis logs for details about the RDB error.")

    def emit(self, sim):
        inst, rng = self.redis.insts[0], sim.rng
        t = self.onset
        while t < self.t1:
            pid = rng.randint(100, 9999)
            for i, (lvl, sym, role, msg) in enumerate([
                    ("INFO", "*", "M", f"Background saving started by pid {pid}"),
                    ("WARN", "#", "C", f"Failed opening the temp RDB file temp-{pid}.rdb (in server root dir /data) for saving: No space left on device"),
                    ("WARN", "#", "M", "Background saving error")]):
                r = Rec(t + i * 0.05, lvl, msg, native={"sym": sym, "role": role, "pid": pid if role == "C" else 1})
                r.abnormal = True
                sim.log(inst, r)
            t += rng.uniform(5, 7)


class KafkaBrokerDown(Template):
    name = "kafka-broker-log-dir-failure"
    fault_type = "broker_failure"
    category = "broker"
    needs = {"kafka"}

    def setup(self, topo, onset, t1):
        k = [s for s in topo.services if s.lang == "kafka" and users_of(topo, s)]
        if not k:
            return False
        self.kafka = k[0]
        self.bad = self.rng.pick(self.kafka.insts)
        self.bid = self.bad.name.rsplit("-", 1)[-1]
        self.root, self.onset, self.t1 = self.kafka.name, onset, t1
        self.partial = True
        self.loud_candidates = users_of(topo, self.kafka)
        self.description = (f"Broker {self.bad.name} of {self.kafka.name} lost its log directory (I/O errors) and shut down; "
                            f"partitions it led went offline or below min.insync.replicas, so producers' sends failed.")
        return True

    def leaf_effect(self, sim, inst, dep, t):
        if dep.target is not self.kafka or t < self.onset or not self.rng.chance(0.4):
            return None
        detail = "" if t < self.onset + 40 else ("org.apache.kafka.common.errors.NotEnoughReplicasException: Messages are "
                                                  "rejected since there are fewer in-sync replicas than required.")
        return eff("kafka", self.root, latency=0 if detail else 5.0, detail=detail)

    def emit(self, sim):
        rng, b = sim.rng, self.bad
        t = self.onset
        e = Rec(t, "ERROR", f"Error while appending records to {rng.pick(self.kafka.topics or ['events'])}-{rng.randint(0, 11)} in dir /var/lib/kafka/data",
                logger="kafka.server.LogDirFailureChannel",
                exc=["java.io.IOException: Input/output error", "\tat java.base/sun.nio.ch.FileDispatcherImpl.write0(Native Method)",
                     "\tat java.base/sun.nio.ch.FileChannelImpl.write(FileChannelImpl.java:285)",
                     "\tat org.apache.kafka.common.record.MemoryRecords.writeFullyTo(MemoryRecords.java:92)",
                     "\tat kafka.log.LogSegment.append(LogSegment.scala:159)"])
        e.abnormal = True
        sim.log(b, e)
        sim.log(b, Rec(t + 0.1, "ERROR", "[ReplicaManager broker=%s] Stopping serving replicas in dir /var/lib/kafka/data" % self.bid,
                       logger="kafka.server.ReplicaManager"))
        sim.log(b, Rec(t + 0.3, "ERROR", "Shutdown broker because all log dirs in /var/lib/kafka/data have failed",
                       logger="kafka.log.LogManager"))
        self.down_windows.setdefault(b, []).append((t + 0.4, self.t1 + 1))
        b.restarts.append((t + 0.4, self.t1 + 1))
        for o in self.kafka.insts:
            if o is b:
                continue
            tt = t + rng.uniform(0.5, 3)
            while tt < self.t1:
                w = Rec(tt, "WARN", f"[ReplicaFetcher replicaId={o.name.rsplit('-', 1)[-1]}, leaderId={self.bid}, fetcherId=0] "
                        f"Error in response for fetch request (type=FetchRequest, replicaId={o.name.rsplit('-', 1)[-1]}, maxWait=500, minBytes=1)",
                        logger="kafka.server.ReplicaFetcherThread",
                        exc=[f"java.io.IOException: Connection to {self.bid} was disconnected before the response was read",
                             "\tat org.apache.kafka.clients.NetworkClientUtils.sendAndReceive(NetworkClientUtils.java:99)",
                             "\tat kafka.server.BrokerBlockingSender.sendRequest(BrokerBlockingSender.scala:113)"])
                w.abnormal = True
                sim.log(o, w)
                tt += rng.uniform(20, 60)
            for topic in self.kafka.topics[:3]:
                p = rng.randint(0, 11)
                sim.log(o, Rec(t + rng.uniform(10, 30), "INFO", f"[Partition {topic}-{p} broker={o.name.rsplit('-', 1)[-1]}] Shrinking ISR from "
                               f"{self.bid},1,2 to 1,2. Leader: (highWatermark: {rng.randint(10 ** 5, 10 ** 7)}, endOffset: "
                               f"{rng.randint(10 ** 7, 10 ** 8)}). Out of sync replicas: (brokerId: {self.bid}, endOffset: -1).",
                               logger="kafka.cluster.Partition"))


class RabbitMemoryAlarm(Template):
    name = "rabbitmq-memory-alarm"
    fault_type = "broker_failure"
    category = "broker"
    needs = {"rabbitmq"}

    def setup(self, topo, onset, t1):
        k = [s for s in topo.services if s.lang == "rabbitmq" and users_of(topo, s)]
        if not k:
            return False
        self.mq = k[0]
        self.root, self.onset, self.t1 = self.mq.name, onset, t1
        self.loud_candidates = users_of(topo, self.mq)
        self.description = (f"{self.mq.name} (RabbitMQ) crossed its memory high watermark and raised the memory alarm, "
                            f"blocking every publishing connection; publishers timed out and their requests failed.")
        return True

    def leaf_effect(self, sim, inst, dep, t):
        if dep.target is not self.mq or t < self.onset + 1:
            return None
        return eff("amqp", self.root, latency=dep.timeout)

    def emit(self, sim):
        inst = self.mq.insts[0]
        node = f"rabbit@{inst.host}"
        lines = [f"vm_memory_high_watermark set. Memory used:{sim.rng.randint(1600, 1700) * 1048576} allowed:{1717986918}",
                 f"memory resource limit alarm set on node '{node}'.", "",
                 "**********************************************************",
                 "*** Publishers will be blocked until this alarm clears ***",
                 "**********************************************************", ""]
        r = Rec(self.onset, "WARN", lines[0], exc=lines[1:], native={"epid": "<0.411.0>"})
        r.abnormal = True
        sim.log(inst, r)

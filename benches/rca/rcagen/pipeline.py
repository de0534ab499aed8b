"""A data-pipeline topology (Airflow, Spark, MinIO, a feature-serving API) and its fault
template: Spark executors running out of memory, so the scheduled feature build fails
and the online API serves stale features. The user-facing failure is linked to the cause
by data, not by calls, as in the shipped mlops example."""

from __future__ import annotations

from .build import _app, _instances, _nodes, _k8s_infra
from .faults_base import Template, kubelet_log
from .sim import Effect
from .topology import ZONESETS, Dep, Endpoint, Svc, Topology
from .util import Rec, Rng, strf


def build_pipeline(rng: Rng, layout: str) -> Topology:
    zones = rng.pick(ZONESETS)
    topo = Topology([], zones, _nodes(rng, zones, layout, "small"), layout, rng.pick(["ml", "data", "mlops"]), "data")

    def add(svc: Svc, n: int) -> Svc:
        svc.ns = svc.ns or topo.ns
        svc.host = svc.host or svc.name
        _instances(rng, topo, svc, n)
        topo.services.append(svc)
        return svc

    store = add(Svc("minio", "objstore", "minio", "minio" if layout == "k8s" else "minio-json", port=9000,
                    instrumented=False), 1)
    redis = add(Svc(rng.pick(["redis", "feature-cache"]), "cache", "redis", "redis", port=6379, instrumented=False), 1)
    meta = add(Svc("airflow-postgres", "db", "postgres", "postgres", port=5432, instrumented=False, db_name="airflow"), 1)
    worker = add(Svc("spark-worker", "api", "java", "spark", port=7078, instrumented=rng.chance(0.6),
                     pkg="org.apache.spark.executor", noun="spark"), rng.randint(1, 3))
    master = add(Svc("spark-master", "api", "java", "spark", port=7077, instrumented=worker.instrumented,
                     pkg="org.apache.spark.deploy", noun="spark"), 1)
    af_worker = add(Svc("airflow-worker", "cron", "python", "airflow", port=8793, instrumented=rng.chance(0.5),
                        noun="feature_pipeline"), 1)
    sched = add(Svc("airflow-scheduler", "batch", "python", "airflow", port=8974, instrumented=False), 1)
    api = add(_app(rng, rng.pick(["feature-api", "features", "feature-store-api"]), "api", layout, "python", noun="features"), rng.randint(1, 3))
    gw = add(Svc(rng.pick(["nginx", "edge"]), "gateway", "nginx", "nginx", {"timing": True}, port=80, access_log=True,
                 instrumented=False), 1)
    gw.deps.append(Dep(api, "http", timeout=10.0))
    api.deps.append(Dep(redis, "redis", timeout=1.0))
    gw.endpoints.append(Endpoint(gw, "GET", "/", [gw.deps[0]], base_ms=0.5))
    api.endpoints.append(Endpoint(api, "GET", "/features/user/{id}", [api.deps[0]], base_ms=6.0))
    worker.deps.append(Dep(store, "s3", timeout=60.0, retries=3))
    worker.endpoints.append(Endpoint(worker, "RUN", "task", [worker.deps[0]], base_ms=9000.0))
    master.deps.append(Dep(worker, "http", timeout=600.0))
    master.endpoints.append(Endpoint(master, "SUBMIT", "feature-build", [master.deps[0]], base_ms=400.0))
    af_worker.deps += [Dep(master, "http", timeout=900.0), Dep(meta, "sql", timeout=10.0)]
    af_worker.endpoints.append(Endpoint(af_worker, "PROCESS", "build_features", list(af_worker.deps), base_ms=500.0))
    af_worker.schedule = f"every:{rng.choice([2, 3, 5])}"
    sched.deps.append(Dep(meta, "sql", timeout=10.0))
    if layout == "k8s":
        _k8s_infra(rng, topo, add)
    return topo


class SparkExecutorOom(Template):
    name = "spark-executor-oom-stale-features"
    fault_type = "oom_crash_loop"
    category = "resource_exhaustion"
    layouts = ("k8s", "compose", "files")
    custom_topology = staticmethod(build_pipeline)

    def setup(self, topo: Topology, onset: float, t1: float) -> bool:
        self.worker = topo.by_name("spark-worker")
        self.api = [s for s in topo.services if s.role == "api" and s.fmt != "spark"][0]
        self.job = topo.by_name("airflow-worker")
        self.every = int(self.job.schedule.split(":")[1]) * 60
        self.root, self.onset, self.t1 = self.worker.name, onset, t1
        last_ok = (int(onset) // self.every) * self.every
        self.stale_from = last_ok + 2 * self.every + 30
        self.loud_candidates = []
        self.description = (f"A skewed partition made Spark executors on {self.worker.name} run out of heap "
                            f"(OutOfMemoryError, executor lost) from {strf(onset, '%H:%M:%S')}; every feature_pipeline "
                            f"run failed, and once the last snapshot was older than its freshness limit "
                            f"{self.api.name} rejected lookups as stale.")
        return True

    def server_effect(self, sim, inst, ep, t):
        if inst.svc is self.worker and t >= self.onset:
            return Effect("http", status=500, path=[self.root], detail="Java heap space",
                          etype="java.lang.OutOfMemoryError", server_log=False)
        if inst.svc is self.api and t >= self.stale_from:
            snap = strf(self.stale_from - 2 * self.every - 30, "%Y%m%d%H%M")
            return Effect("http", status=503, detail=f"stale snapshot {snap} older than {2 * self.every // 60} minutes",
                          path=[self.root, "spark-master", self.job.name, self.api.name])
        return None

    def emit(self, sim) -> None:
        rng = sim.rng
        t, tid = self.onset + rng.uniform(1, 20), rng.randint(40, 90)
        while t < self.t1:
            inst = rng.pick(self.worker.insts)
            stage = rng.randint(2, 6)
            e = Rec(t, "ERROR", f"Exception in task {tid % 200}.0 in stage {stage}.0 (TID {tid})", logger="Executor",
                    exc=["java.lang.OutOfMemoryError: Java heap space",
                         "\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)",
                         "\tat org.apache.spark.util.collection.PartitionedPairBuffer.growArray(PartitionedPairBuffer.scala:67)",
                         "\tat org.apache.spark.util.collection.ExternalSorter.insertAll(ExternalSorter.scala:197)",
                         "\tat org.apache.spark.shuffle.sort.SortShuffleWriter.write(SortShuffleWriter.scala:63)"])
            e.abnormal = True
            sim.log(inst, e)
            sim.log(inst, Rec(t + 0.05, "ERROR", f"Uncaught exception in thread Thread[Executor task launch worker for task "
                              f"{tid % 200}.0 in stage {stage}.0 (TID {tid}),5,main]", logger="SparkUncaughtExceptionHandler",
                              exc=["java.lang.OutOfMemoryError: Java heap space"]))
            kubelet_log(sim, inst, t + 0.3, "INFO", f"Memory cgroup out of memory: Killed process {rng.randint(2000, 90000)} (java) "
                        f"total-vm:{rng.randint(8, 12) * 1000000}kB, anon-rss:{rng.randint(3000000, 4000000)}kB, file-rss:"
                        f"{rng.randint(10000, 40000)}kB, shmem-rss:0kB, UID:185 pgtables:{rng.randint(7000, 9000)}kB "
                        f"oom_score_adj:{rng.randint(900, 999)}", ident="kernel")
            master = self.worker.insts[0] if False else sim.topo.by_name("spark-master").insts[0]
            sim.log(master, Rec(t + 1.2, "ERROR", f"Lost executor {rng.randint(0, 3)} on {inst.ip}: Command exited with code 137",
                                logger="TaskSchedulerImpl"))
            tid += 1
            t += rng.uniform(15, 45)

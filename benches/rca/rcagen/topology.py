"""Service topologies: services, their instances (pods, containers, hosts), zones and the
calls between them, with randomised names, languages and log formats.

A topology is layered the way most request-serving systems are: an edge proxy, one or two
frontends or BFFs, a set of APIs calling each other and their stores (PostgreSQL, MySQL,
Redis), an optional broker with consumer workers, object storage, third-party APIs and
scheduled jobs. Kubernetes topologies add CoreDNS, a CNI agent and the nodes' kubelets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .util import Rng

FLAVOURS = {
    "shop": ["catalog", "cart", "checkout", "orders", "payments", "inventory", "shipping", "users",
             "search", "recommendations", "reviews", "pricing", "promotions", "wishlist"],
    "fintech": ["accounts", "ledger", "transfers", "cards", "kyc", "fraud", "statements", "limits",
                "payouts", "beneficiaries", "fx", "onboarding"],
    "media": ["videos", "uploads", "metadata", "thumbnails", "playlists", "comments", "search",
              "profiles", "subscriptions", "recommendations", "captions", "entitlements"],
    "logistics": ["tracking", "shipments", "routing", "fleet", "dispatch", "warehouses", "labels",
                  "customers", "quotes", "carriers", "returns", "manifests"],
    "saas": ["tenants", "projects", "billing", "reports", "webhooks", "audit", "files", "usage",
             "invoices", "members", "integrations", "exports"],
}
FRONTENDS = ["web", "storefront", "bff", "mobile-bff", "frontend", "portal", "web-app", "graphql"]
EXTERNALS = {"payments": "api.paygate.example.com", "geo": "maps.geoapi.example.net",
             "email": "api.mailrelay.example.com", "sms": "api.textline.example.io",
             "fx": "rates.fxfeed.example.com", "tax": "api.taxcalc.example.org",
             "kyc": "verify.idcheck.example.com"}
LANGS = [("java", 0.34), ("go", 0.30), ("python", 0.22), ("node", 0.14)]
LANG_FORMATS = {"java": ["spring-boot", "spring-boot", "logback"],
                "python": ["python-logging", "gunicorn", "uvicorn"],
                "go": ["zap", "logrus", "slog", "klog", "zap"],
                "node": ["pino"]}
ZONESETS = [["us-east-1a", "us-east-1b", "us-east-1c"], ["europe-west1-b", "europe-west1-c", "europe-west1-d"],
            ["zone-a", "zone-b", "zone-c"], ["eu-central-1a", "eu-central-1b", "eu-central-1c"]]


@dataclass(eq=False)
class Inst:
    """One running copy of a service: a pod, a compose container or a host process."""

    svc: "Svc"
    name: str
    host: str
    zone: str
    node: str
    ip: str
    pid: int
    uid: str
    version: str
    tz: int = 0
    skew: float = 0.0
    boot: str = ""
    boot_us: int = 0
    container: str = ""
    # (down_at, up_at) pairs: the container restarted; CRI writes a new N.log per restart
    restarts: list[tuple[float, float]] = field(default_factory=list)


@dataclass(eq=False)
class Dep:
    """A call edge from a service to a dependency."""

    target: "Svc"
    kind: str  # http, grpc, sql, redis, kafka, amqp, s3, ext
    optional: bool = False
    timeout: float = 5.0
    retries: int = 0
    topic: str = ""


@dataclass(eq=False)
class Endpoint:
    svc: "Svc"
    method: str
    route: str
    calls: list[Dep] = field(default_factory=list)
    publish: Dep | None = None
    weight: float = 1.0
    base_ms: float = 12.0


@dataclass(eq=False)
class Svc:
    name: str
    role: str  # gateway frontend api worker cron db cache broker objstore external dns cni node batch
    lang: str  # java python go node nginx envoy postgres mysql redis kafka rabbitmq coredns minio ...
    fmt: str
    fmt_opts: dict = field(default_factory=dict)
    insts: list[Inst] = field(default_factory=list)
    deps: list[Dep] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)
    instrumented: bool = True
    logs_trace: bool = False
    old_semconv: bool = False
    port: int = 8080
    ns: str = ""
    version: str = "1.0.0"
    host: str = ""           # the name callers dial
    db_name: str = ""
    access_log: bool = False
    info_rate: float = 0.05  # share of served requests that leave an INFO line
    loud: bool = False       # logs every failed attempt with a full stack trace
    pkg: str = "com.example.app"
    topics: list[str] = field(default_factory=list)
    consumes: str = ""       # topic/queue a worker consumes
    schedule: str = ""       # cron jobs: "hourly", "nightly", "every:N" (minutes)
    noun: str = ""
    tls: bool = False        # callers reach it over https


@dataclass
class Topology:
    services: list[Svc]
    zones: list[str]
    nodes: dict[str, str]  # node -> zone
    layout: str            # k8s, compose, files
    ns: str
    flavour: str

    def by_name(self, name: str) -> Svc:
        for s in self.services:
            if s.name == name:
                return s
        raise KeyError(name)

    def role(self, *roles: str) -> list[Svc]:
        return [s for s in self.services if s.role in roles]

    def callers(self, svc: Svc) -> list[Svc]:
        return [s for s in self.services if any(d.target is svc for d in s.deps)]

    def entry(self) -> Svc:
        return self.role("gateway")[0]


def pick_lang(rng: Rng) -> str:
    x, acc = rng.random(), 0.0
    for lang, p in LANGS:
        acc += p
        if x < acc:
            return lang
    return "go"


def fmt_for(rng: Rng, lang: str, layout: str) -> tuple[str, dict]:
    choices = [f for f in LANG_FORMATS[lang] if layout == "k8s" or f != "uvicorn"]
    fmt = rng.pick(choices)
    opts: dict = {}
    if fmt == "spring-boot":
        opts["boot2"] = rng.chance(0.25)
    elif fmt == "zap":
        opts["iso"] = rng.chance(0.3)
    elif fmt in ("logrus", "slog"):
        opts["json"] = rng.chance(0.4)
    elif fmt == "python-logging":
        opts["otel"] = rng.chance(0.5)
    return fmt, opts


class Namer:
    """Service names in one naming style per scenario, never repeated."""

    def __init__(self, rng: Rng):
        self.rng = rng
        self.suffix = rng.pick(["-api", "-svc", "-service", "", "", "-srv"])
        self.used: set[str] = set()

    def take(self, base: str, suffix: str | None = None) -> str:
        name = base + (self.suffix if suffix is None else suffix)
        n = 2
        while name in self.used:
            name = f"{base}{n}{self.suffix if suffix is None else suffix}"
            n += 1
        self.used.add(name)
        return name

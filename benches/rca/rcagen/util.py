"""Small shared helpers: deterministic randomness, ids, time formatting, the log record."""

from __future__ import annotations

import datetime as _dt
import random
from dataclasses import dataclass, field
from typing import Any

UTC = _dt.timezone.utc

LEVELS = ("DEBUG", "INFO", "WARN", "ERROR", "FATAL")
LEVEL_RANK = {name: i for i, name in enumerate(LEVELS)}


class Rng(random.Random):
    """random.Random with the few helpers the generator needs (always seeded)."""

    def hexid(self, nbytes: int) -> str:
        return "".join(f"{self.getrandbits(8):02x}" for _ in range(nbytes))

    def chance(self, p: float) -> bool:
        return self.random() < p

    def pick(self, seq):
        return seq[self.randrange(len(seq))]

    def sample_n(self, seq, k):
        k = max(0, min(k, len(seq)))
        return self.sample(list(seq), k)

    def uuid(self) -> str:
        h = self.hexid(16)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[self.randrange(4)]}{h[17:20]}-{h[20:32]}"

    def alnum(self, n: int, alphabet: str = "bcdfghjklmnpqrstvwxz2456789") -> str:
        return "".join(alphabet[self.randrange(len(alphabet))] for _ in range(n))

    def ip(self, net: str = "10.244") -> str:
        return f"{net}.{self.randrange(0, 8)}.{self.randrange(2, 250)}"

    def lognormal_ms(self, median_ms: float, sigma: float = 0.5) -> float:
        return median_ms * (2.718281828 ** self.gauss(0.0, sigma))


@dataclass
class Rec:
    """One log record before rendering: a format turns it into one or more lines.

    `level` is canonical (DEBUG/INFO/WARN/ERROR/FATAL); `native` may carry a format's own
    level word or other header parts (postgres `LOG`, redis `#`). `exc` holds continuation
    lines (a stack trace, a traceback, DETAIL lines) that text formats append and JSON
    formats embed.
    """

    ts: float
    level: str
    msg: str
    logger: str = ""
    thread: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    exc: list[str] | None = None
    trace_id: str = ""
    span_id: str = ""
    native: dict[str, Any] = field(default_factory=dict)
    # bookkeeping for the truth/traps computation; never rendered
    abnormal: bool = False
    chronic: bool = False


def dt(ts: float, tz_minutes: int = 0) -> _dt.datetime:
    tz = UTC if tz_minutes == 0 else _dt.timezone(_dt.timedelta(minutes=tz_minutes))
    return _dt.datetime.fromtimestamp(ts, tz)


def rfc3339(ts: float, frac: int = 3, tz_minutes: int = 0, z: bool = True) -> str:
    """2025-11-03T20:41:41.123Z (frac digits 0-9; Z or +hh:mm)."""
    d = dt(ts, tz_minutes)
    base = d.strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        ns = int(round((ts - int(ts)) * 1e9)) if frac > 6 else d.microsecond * 1000
        base += "." + f"{ns:09d}"[:frac]
    if tz_minutes == 0 and z:
        return base + "Z"
    return base + offset(tz_minutes, colon=True)


def offset(tz_minutes: int, colon: bool = False) -> str:
    sign = "+" if tz_minutes >= 0 else "-"
    m = abs(tz_minutes)
    return f"{sign}{m // 60:02d}{':' if colon else ''}{m % 60:02d}"


def strf(ts: float, pattern: str, tz_minutes: int = 0) -> str:
    """strftime plus %3f (milliseconds) and %6f (microseconds)."""
    d = dt(ts, tz_minutes)
    pattern = pattern.replace("%3f", f"{d.microsecond // 1000:03d}").replace(
        "%6f", f"{d.microsecond:06d}"
    )
    return d.strftime(pattern)


def epoch_ns(ts: float) -> int:
    return int(round(ts * 1e6)) * 1000


def parse_rfc3339(s: str) -> float:
    """Parse the RFC 3339 forms the formats here write (any fraction length, Z or offset)."""
    s = s.strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    main, frac = s, ""
    if "." in s:
        head, rest = s.split(".", 1)
        i = 0
        while i < len(rest) and rest[i].isdigit():
            i += 1
        frac, tzpart = rest[:i], rest[i:]
        main = head + tzpart
    d = _dt.datetime.fromisoformat(main)
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return d.timestamp() + (float("0." + frac) if frac else 0.0)


def parse_local(s: str, pattern: str, tz_minutes: int = 0) -> float:
    d = _dt.datetime.strptime(s, pattern)
    if d.tzinfo is None:
        d = d.replace(tzinfo=_dt.timezone(_dt.timedelta(minutes=tz_minutes)))
    return d.timestamp()

"""Registry of the log formats by name."""

from __future__ import annotations

from .fmtbase import Fmt
from .formats_app import APP_FORMATS
from .formats_infra import INFRA_FORMATS

FORMATS: dict[str, Fmt] = {f.name: f for f in APP_FORMATS + INFRA_FORMATS}

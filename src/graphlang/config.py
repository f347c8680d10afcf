"""Settings: built once, from ``GRAPHLANG_*`` environment variables and command-line overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

AuthMode = Literal["emulator", "oidc", "none"]
GRAPH_AUDIENCES = ("https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000")
DEFAULT_TENANT = "0a5e0bd5-3a4f-4f6f-9d1c-6f1b2d3c4e5f"
EMULATOR_ISSUER_BASE = "https://graphlang.local"


def _split(value: str) -> tuple[str, ...]:
    return tuple(part for part in value.replace(",", " ").split() if part)


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path(".graphlang")
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    auth: AuthMode = "emulator"
    tenant: str = DEFAULT_TENANT
    issuer_base: str = EMULATOR_ISSUER_BASE
    audiences: tuple[str, ...] = GRAPH_AUDIENCES
    signing_key_file: Path | None = None
    oidc_issuer: str | None = None
    oidc_jwks_url: str | None = None
    oidc_discovery_url: str | None = None
    none_user: str = "user@contoso.com"
    max_body_bytes: int = 1024 * 1024
    pool_size: int = 8
    sqlite_synchronous: str = "FULL"
    # -- identity and access ---------------------------------------------------------------------
    federated_tenants: tuple[str, ...] = ()
    permissions_file: Path | None = None  # JSON or YAML rows replacing the default permission table
    oidc_refresh_interval: int = 300  # at most one unknown-kid refetch of the JWKS per this many seconds
    oidc_keys_max_age: int = 86_400  # the JWKS is refetched when older than this
    # -- query options and paging ----------------------------------------------------------------
    page_size: int = 100
    max_page_size: int = 999
    max_skip: int = 100_000
    max_filter_nodes: int = 100
    max_query_length: int = 4096
    # -- protocol behaviours and emulator controls -----------------------------------------------
    admin_token: str | None = None
    control_api: bool | None = None
    cors_origins: tuple[str, ...] = ()  # "*" admits any origin
    throttle: bool | None = None  # None: on in service mode (auth=oidc), off otherwise
    throttle_user_limit: int = 1000  # requests one user may make per window (the bucket's size)
    throttle_app_limit: int = 20_000  # requests one application may make per window, across users
    throttle_window_seconds: int = 10  # a bucket refills completely in this time
    faults_file: Path | None = None  # fault rules (JSON or YAML) installed at start and on reset
    seed_file: Path | None = None  # fixture (JSON or YAML) loaded at start and on reset
    journal_size: int = 1000  # requests kept for GET /_graphlang/requests
    snapshot_max_bytes: int = 256 * 1024 * 1024  # largest PUT /_graphlang/snapshot or seed body
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # -- operations and scale-out ----------------------------------------------------------------
    redis_url: str | None = None  # shared throttling buckets for every instance
    log_json: bool = True  # one JSON object per log line (one line per request), else plain text
    workers: int = 1  # processes sharing the listening socket (serve --workers)
    shutdown_grace_seconds: int = 30  # after SIGTERM, how long requests in flight may still take
    pool_max_overflow: int = 4  # PostgreSQL connections beyond pool_size under load, per process
    pool_timeout_seconds: int = 10  # waiting longer than this for a connection is a 503
    metrics: bool = True  # GET /metrics
    # -- performance -----------------------------------------------------------------------------
    group_commit: bool = True  # SQLite file: concurrent writes share one transaction and one fsync

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'graphlang.db').resolve()}"

    @property
    def control_api_enabled(self) -> bool:
        return self.control_api if self.control_api is not None else self.auth != "oidc"

    def emulator_issuer(self, tenant: str) -> str:
        return f"{self.issuer_base.rstrip('/')}/{tenant}/v2.0"

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"GRAPHLANG_{f.name.upper()}")
            if raw is None:
                continue
            values[f.name] = _coerce(f.name, str(f.type), raw)
        return cls(**values).with_overrides(**overrides)


def _coerce(name: str, annotation: str, raw: str) -> Any:
    if "tuple" in annotation:
        return _split(raw)
    if "Path" in annotation:
        return Path(raw)
    if "bool" in annotation:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"GRAPHLANG_{name.upper()} must be true or false, got {raw!r}")
    if annotation == "int":
        try:
            return int(raw)
        except ValueError as exc:
            raise ValueError(f"GRAPHLANG_{name.upper()} must be an integer, got {raw!r}") from exc
    if name == "auth" and raw not in ("emulator", "oidc", "none"):
        raise ValueError(f"GRAPHLANG_AUTH must be emulator, oidc or none, got {raw!r}")
    return raw

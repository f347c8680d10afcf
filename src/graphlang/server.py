"""Running graphlang under uvicorn."""

from __future__ import annotations

import gc
import socket
import sys
from typing import Any

import click
import orjson
import uvicorn

from graphlang.app import GraphlangApp, create_app
from graphlang.auth.authenticate import check_binding
from graphlang.config import Settings
from graphlang.controls.runtime import load_configured_seed
from graphlang.ops.dealing import DealtServer
from graphlang.ops.logs import configure_logging
from graphlang.ops.workers import supervise
from graphlang.services import create_services
from graphlang.storage.engine import is_memory_sqlite

GIL_SWITCH_SECONDS = 0.0005


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run(settings: Settings, *, announce_json: bool = False) -> None:
    check_workers(settings)
    configure_logging(settings)
    check_binding(settings)
    services = create_services(settings)
    load_configured_seed(services)
    # With several workers each builds its own app after the fork, and this one only shows that the
    # configuration is sound (a bad one stops here, with its message, before any worker starts).
    app = create_app(settings, services)
    sock = bind(settings.host, settings.port)
    port = sock.getsockname()[1]
    scheme = "https" if settings.tls_cert else "http"
    base = f"{scheme}://{settings.host if ':' not in settings.host else f'[{settings.host}]'}:{port}"
    if announce_json:
        click.echo(orjson.dumps(announcement(settings, base, services.admin_token)))
    else:
        click.echo(f"graphlang listening on {base}/beta (auth: {settings.auth}); "
                   "get a token with: graphlang token --user you@contoso.com", nl=True)
    if settings.workers == 1:
        serve_app(app, settings, sock)
        return
    services.close()  # no connection may be shared with the forked workers
    supervise(settings.workers, lambda channel: serve_app(create_app(settings), settings, channel, dealt=True),
              settings.shutdown_grace_seconds, sock)


def announcement(settings: Settings, base: str, admin_token: str) -> dict[str, Any]:
    """What a script needs to use the server it started, as one JSON line."""
    return {
        "url": base,
        "graph": f"{base}/beta",
        "token_endpoint": f"{base}/{settings.tenant}/oauth2/v2.0/token",
        "tenant": settings.tenant,
        "auth": settings.auth,
        "control_api": f"{base}/_graphlang" if settings.control_api_enabled else None,
        "admin_token": admin_token,
    }


def check_workers(settings: Settings) -> None:
    if settings.workers < 1:
        raise ValueError(f"--workers must be at least 1, got {settings.workers}")
    if settings.workers > 1 and is_memory_sqlite(settings.resolved_database_url):
        raise ValueError("several workers need a shared database; an in-memory SQLite database would "
                         "give each worker its own")


def serve_app(app: GraphlangApp, settings: Settings, sock: socket.socket, *, dealt: bool = False) -> None:
    """Serve until SIGTERM or SIGINT, then let requests in flight finish for up to the grace period:
    the connections ``sock`` accepts, or (``dealt``) those a supervisor deals down it."""
    # The group commit's writer thread holds the database's write lock from BEGIN until its COMMIT has
    # returned and it has the interpreter lock back; while the event loop is busy that can take the
    # whole switch interval (5 ms by default), with every other writer waiting. A shorter interval
    # hands the lock over sooner; it costs nothing while no other thread wants it.
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    # What is alive now (modules, the app, its services) lives as long as the process. Frozen, the
    # collector never walks it again: left in, the oldest generation's collections walked some 70,000
    # objects under load, pausing every request of the worker for 40-70 ms.
    gc.collect()
    gc.freeze()
    config = uvicorn_config(
        app,
        log_config=None,  # uvicorn's records go through graphlang's own handler and format
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        ssl_certfile=settings.tls_cert,
        ssl_keyfile=settings.tls_key,
    )
    run_uvicorn(config, sock, dealt=dealt)


def uvicorn_config(app: Any, **options: Any) -> uvicorn.Config:
    """The server settings graphlang serves with, which the benchmark's ceiling shares."""
    return uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False, server_header=False,
                          date_header=False, loop="auto", http="auto", **options)


def run_uvicorn(config: uvicorn.Config, sock: socket.socket, *, dealt: bool) -> None:
    if dealt:
        DealtServer(config, sock).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])

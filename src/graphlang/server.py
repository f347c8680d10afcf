"""Running graphlang under uvicorn."""

from __future__ import annotations

import logging
import socket

import click
import uvicorn

from graphlang.app import create_app
from graphlang.config import Settings
from graphlang.services import create_services


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    services = create_services(settings)
    app = create_app(settings, services)
    sock = bind(settings.host, settings.port)
    port = sock.getsockname()[1]
    base = f"http://{settings.host if ':' not in settings.host else f'[{settings.host}]'}:{port}"
    click.echo(f"graphlang listening on {base}/beta (auth: {settings.auth}); "
               "get a token with: graphlang token --user you@contoso.com", nl=True)
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_level="warning",
        access_log=False,
        server_header=False,
        date_header=False,
        loop="auto",
        http="auto",
    )
    uvicorn.Server(config).run(sockets=[sock])

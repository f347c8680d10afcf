"""The ``graphlang`` command. Each subcommand group lives in its own module and registers here."""

from __future__ import annotations

from graphlang.cli import apps, cert, db, permissions, serve, state, tokens, users
from graphlang.cli.root import main

for module in (serve, tokens, users, db, apps, permissions, state, cert):
    module.register(main)

__all__ = ["main"]

"""The ``graphlang`` command. Each subcommand group lives in its own module and registers here."""

from __future__ import annotations

from graphlang.cli import db, serve, tokens, users
from graphlang.cli.root import main

for module in (serve, tokens, users, db):
    module.register(main)

__all__ = ["main"]

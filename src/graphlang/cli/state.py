"""``graphlang export`` and ``graphlang import``: the whole state as a snapshot file, offline.

The same document as ``GET``/``PUT /_graphlang/snapshot``. Import replaces everything in one
transaction; run it while no server uses the database, or use the control API instead, so that no
server keeps caches of the data it replaced.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

import click
import orjson

from graphlang.cli.root import offline_services, settings_of
from graphlang.config import Settings

FILE = click.Path(dir_okay=False, path_type=Path, allow_dash=True)
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")


def _stored_services(settings: Settings) -> AbstractContextManager[Any]:
    from graphlang.storage.engine import is_memory_sqlite

    if is_memory_sqlite(settings.resolved_database_url):
        raise click.UsageError("the database is in memory, so only its server holds the data; use "
                               "GET or PUT /_graphlang/snapshot on the running server")
    return offline_services(settings)


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {table}" for table, count in counts.items())


@click.command("export", help="Write the whole state (users, apps, languages) as a snapshot JSON document "
                              "to FILE, or to standard output.")
@click.argument("file", type=FILE, required=False)
@click.pass_context
def export_state(ctx: click.Context, file: Path | None) -> None:
    from graphlang.storage.snapshot import write_snapshot

    with _stored_services(settings_of(ctx)) as services:
        if file is None or str(file) == "-":
            counts = write_snapshot(services.store, sys.stdout.buffer)
        else:
            # Written beside the target and renamed: FILE is never left half-written.
            partial = file.with_name(f".{file.name}.{os.getpid()}.partial")
            try:
                with partial.open("wb") as out:
                    counts = write_snapshot(services.store, out)
                partial.replace(file)
            except OSError as exc:
                raise click.ClickException(f"cannot write {file}: {exc.strerror}") from exc
            finally:
                partial.unlink(missing_ok=True)
    click.echo(f"exported {_summary(counts.to_json())}", err=True)


def _document(text: bytes, name: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise click.ClickException(f"{name} is not valid JSON: {exc}") from exc


@contextmanager
def _opened(file: Path) -> Iterator[IO[bytes]]:
    if str(file) == "-":
        yield sys.stdin.buffer
        return
    try:
        source = file.open("rb")
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror}") from exc
    with source:
        yield source


def _import_json_lines(settings: Settings, lines: Iterable[bytes], file: Path | None) -> None:
    """``file``: the lines' file, when they come from one (a large one is read by worker processes)."""
    from graphlang.controls.bulk_import import PARALLEL_BYTES, line_readers, load_json_lines, load_json_lines_file
    from graphlang.controls.jsonlines import JsonLinesError
    from graphlang.storage.bulk import BulkLoadError

    with ExitStack() as stack:
        # Workers for a large file start first: no database connection may be forked.
        large = file is not None and file.stat().st_size >= PARALLEL_BYTES
        readers = stack.enter_context(line_readers()) if large else None
        services = stack.enter_context(_stored_services(settings))
        try:
            if file is not None and readers is not None:
                counts = load_json_lines_file(services.store, file, settings.tenant, readers)
            else:
                counts = load_json_lines(services.store, lines, settings.tenant)
        except (JsonLinesError, BulkLoadError) as exc:
            raise click.ClickException(f"{exc} Nothing was imported.") from exc
    click.echo(f"imported {_summary(counts)}")


@click.command("import", help="Replace the whole state with a snapshot file (as written by 'graphlang "
                              "export' or GET /_graphlang/snapshot), or every user and language with a "
                              "JSON Lines file (.jsonl: one user or language per line, see "
                              "docs/seeding.md); '-' reads standard input. All of it is imported, or "
                              "(on any error) nothing.")
@click.argument("file", type=FILE)
@click.pass_context
def import_state(ctx: click.Context, file: Path) -> None:
    from graphlang.controls.jsonlines import looks_like_json_lines
    from graphlang.storage.snapshot import SnapshotError, load_snapshot, tables_in

    name = "standard input" if str(file) == "-" else str(file)
    with _opened(file) as source:
        first = source.readline()
        if file.suffix.lower() in JSON_LINES_SUFFIXES or looks_like_json_lines(first):
            regular = str(file) != "-" and file.is_file()
            _import_json_lines(settings_of(ctx), itertools.chain([first], source), file if regular else None)
            return
        document = _document(first + source.read(), name)
    with _stored_services(settings_of(ctx)) as services:
        try:
            counts = load_snapshot(services.store, tables_in(document))
        except SnapshotError as exc:
            raise click.ClickException(f"{exc} Nothing was imported.") from exc
    click.echo(f"imported {_summary(counts.to_json())}")


def register(group: click.Group) -> None:
    group.add_command(export_state)
    group.add_command(import_state)

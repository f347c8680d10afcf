"""``graphlang import FILE.jsonl``: every user and language replaced from JSON Lines, all or nothing."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphlang.config import Settings
from graphlang.controls import bulk_import, jsonlines
from graphlang.controls.jsonlines import JsonLinesError
from graphlang.services import create_services
from graphlang.storage.bulk import BulkLoadError
from tests.api.controls_support import MakeClient
from tests.cli.test_state import exported_tables, graphlang
from tests.factories import Tokens

TENANT = "0a5e0bd5-3a4f-4f6f-9d1c-6f1b2d3c4e5f"
ADELE = "6f8e2b4a-1c3d-4e5f-8a9b-0c1d2e3f4a5b"
MEGAN = "7a9f3c5b-2d4e-4f6a-9b0c-1d2e3f4a5b6c"
ENGLISH = "0f8fad5b-d9cb-469f-a165-70867728950e"
ADMIN_READER = "admin@contoso.com"


@pytest.fixture
def stored_url(database_url: str, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}" if database_url.startswith("sqlite") else database_url


def lines(*entries: dict[str, Any]) -> str:
    return "".join(json.dumps(entry) + "\n" for entry in entries)


def user(user_id: str, upn: str, **more: Any) -> dict[str, Any]:
    return {"type": "user", "id": user_id, "userPrincipalName": upn, **more}


def language(user_id: str, **properties: Any) -> dict[str, Any]:
    return {"type": "language", "userId": user_id, **properties}


def write(tmp_path: Path, text: str, name: str = "people.jsonl") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def read_item(client: TestClient, tokens: Tokens, owner: str, item: str) -> dict[str, Any]:
    headers = tokens.headers(upn=ADMIN_READER, scopes="User.Read.All")
    response = client.get(f"/beta/users/{owner}/profile/languages/{item}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_json_lines_file_replaces_users_and_languages_as_graph_shows_them(
        make_client: MakeClient, tokens: Tokens, settings: Settings, stored_url: str, tmp_path: Path) -> None:
    client = make_client(database_url=stored_url)
    path = write(tmp_path, lines(
        user(ADELE, "Adele@contoso.com", displayName="Adele Vance", tenantId=TENANT),
        language(ADELE, id=ENGLISH, tag="en-us", spoken="nativeOrBilingual", allowedAudiences="organization",
                 createdDateTime="2024-05-01T10:00:00.1234567Z", lastModifiedDateTime="2025-01-02T03:04:05Z"),
        user(MEGAN, "megan@contoso.com"),
        language(MEGAN, tag="fr-FR", displayName="French (mine)", inference={"confidenceScore": 0.5}),
    ))
    result = graphlang(settings, stored_url, "import", str(path))
    assert result.exit_code == 0, result.output
    assert "imported 2 users, 2 languages" in result.stdout

    item = read_item(client, tokens, "adele@contoso.com", ENGLISH)
    assert item["tag"] == "en-US"
    assert item["displayName"] == "English"
    assert item["spoken"] == "nativeOrBilingual"
    assert item["createdDateTime"] == "2024-05-01T10:00:00.1234567Z"
    assert item["lastModifiedDateTime"] == "2025-01-02T03:04:05.0000000Z"
    adele = {"application": None, "device": None, "user": {"displayName": "Adele Vance", "id": ADELE}}
    assert item["createdBy"] == item["lastModifiedBy"] == adele
    assert item["@odata.etag"] == f'W/"{ENGLISH}-1"'

    megans = client.get(f"/beta/users/{MEGAN}/profile/languages",
                        headers=tokens.headers(upn=ADMIN_READER, scopes="User.Read.All")).json()["value"]
    assert [(m["tag"], m["displayName"], m["inference"]["confidenceScore"]) for m in megans] == \
        [("fr-FR", "French (mine)", 0.5)]
    assert megans[0]["createdBy"]["user"] == {"displayName": "megan@contoso.com", "id": MEGAN}


def test_json_lines_are_recognised_by_content_and_read_from_standard_input(
        settings: Settings, stored_url: str, tmp_path: Path) -> None:
    content = lines(user(ADELE, "adele@contoso.com"), language(ADELE, tag="nb-NO"))
    by_content = graphlang(settings, stored_url, "import", str(write(tmp_path, content, "people.txt")))
    assert "imported 1 users, 1 languages" in by_content.stdout, by_content.output
    from_stdin = graphlang(settings, stored_url, "import", "-", stdin=content + "\n\n")
    assert "imported 1 users, 1 languages" in from_stdin.stdout, from_stdin.output
    tables = exported_tables(settings, stored_url)
    assert [row[3] for row in tables["users"]["rows"]] == ["adele@contoso.com"]
    assert len(tables["languages"]["rows"]) == 1


def test_a_user_id_defaults_to_the_one_token_minting_derives(
        make_client: MakeClient, tokens: Tokens, settings: Settings, stored_url: str, tmp_path: Path) -> None:
    client = make_client(database_url=stored_url)
    path = write(tmp_path, lines({"type": "user", "userPrincipalName": "alice@contoso.com"}))
    assert graphlang(settings, stored_url, "import", str(path)).exit_code == 0
    alice = tokens.user_id("alice@contoso.com")
    path = write(tmp_path, lines({"type": "user", "userPrincipalName": "alice@contoso.com"},
                                 language(alice, tag="de-DE")))
    assert graphlang(settings, stored_url, "import", str(path)).exit_code == 0
    mine = client.get("/beta/me/profile/languages", headers=tokens.headers(upn="alice@contoso.com")).json()
    assert [item["tag"] for item in mine["value"]] == ["de-DE"]


@pytest.mark.parametrize(("entries", "message"), [
    ([user(ADELE, "adele@contoso.com"), language(ADELE, tag="en-US", spoken="fluent")],
     "Line 2: Invalid value 'fluent' for property 'spoken'"),
    ([user(ADELE, "adele@contoso.com"), language(MEGAN, tag="en-US")],
     f"Line 2: the member 'userId' names the user '{MEGAN}', which no earlier line defines."),
    ([user(ADELE, "adele@contoso.com"), language(ADELE, tag="en-US", colour="blue")],
     "Line 2: The property 'colour' does not exist on type 'microsoft.graph.languageProficiency'"),
    ([user(ADELE, "adele@contoso.com"), language(ADELE, createdDateTime="yesterday")],
     "Line 2: the member 'createdDateTime' must be a DateTimeOffset"),
    ([user("not-a-guid", "adele@contoso.com")], "Line 1: the member 'id' must be a GUID"),
    ([{"type": "user"}], "Line 1: the member 'userPrincipalName' is required."),
    ([{"type": "group", "id": ADELE}], "Line 1: the member 'type' must be 'user' or 'language'."),
    ([user(ADELE, "adele@contoso.com"), language(ADELE, tag="en-US", isSearchable=True),
      language(ADELE, tag="en-US", isSearchable=1)],
     "Line 3: Invalid value for property 'isSearchable': expected a boolean, got number."),
    ([user(ADELE, "adele@contoso.com"), user(MEGAN, "ADELE@contoso.com")], "Line 2 cannot be stored"),
    ([user(ADELE, "adele@contoso.com"), language(ADELE, id=ENGLISH), language(ADELE, id=ENGLISH)],
     "Line 3 cannot be stored"),
], ids=["bad value", "unknown user", "unknown property", "bad timestamp", "bad id", "no upn", "bad type",
        "number for a boolean after the boolean", "upn taken", "id taken"])
def test_a_bad_line_is_named_and_nothing_is_imported(
        settings: Settings, stored_url: str, tmp_path: Path, entries: list[dict[str, Any]], message: str) -> None:
    good = write(tmp_path, lines(user(MEGAN, "megan@contoso.com"), language(MEGAN, tag="fr-FR")), "good.jsonl")
    assert graphlang(settings, stored_url, "import", str(good)).exit_code == 0
    before = exported_tables(settings, stored_url)
    result = graphlang(settings, stored_url, "import", str(write(tmp_path, lines(*entries))))
    assert result.exit_code == 1
    assert message in result.output
    assert "Nothing was imported." in result.output
    assert exported_tables(settings, stored_url) == before


def test_a_line_that_is_not_json_is_named(settings: Settings, stored_url: str, tmp_path: Path) -> None:
    path = write(tmp_path, lines(user(ADELE, "adele@contoso.com")) + "{oops\n")
    result = graphlang(settings, stored_url, "import", str(path))
    assert result.exit_code == 1
    assert "Line 2 is not valid JSON" in result.output


def test_a_large_file_loads_in_batches_and_finds_owners_defined_long_before(
        make_client: MakeClient, tokens: Tokens, settings: Settings, stored_url: str, tmp_path: Path) -> None:
    # More users than the reader keeps in mind, and more rows than one batch holds.
    count = 10_050
    ids = [f"00000000-0000-4000-8000-{number:012d}" for number in range(count)]
    entries = [user(user_id, f"user{number}@contoso.com") for number, user_id in enumerate(ids)]
    entries.append(language(ids[0], id=ENGLISH, tag="en-US"))
    path = write(tmp_path, lines(*entries))
    result = graphlang(settings, stored_url, "import", str(path))
    assert f"imported {count} users, 1 languages" in result.stdout, result.output
    client = make_client(database_url=stored_url)
    item = read_item(client, tokens, ids[0], ENGLISH)
    assert item["createdBy"]["user"] == {"displayName": "user0@contoso.com", "id": ids[0]}
    assert len(exported_tables(settings, stored_url)["users"]["rows"]) == count


def test_the_snapshot_format_is_still_recognised(settings: Settings, stored_url: str, tmp_path: Path) -> None:
    path = write(tmp_path, lines(user(ADELE, "adele@contoso.com"), language(ADELE, tag="en-US")))
    assert graphlang(settings, stored_url, "import", str(path)).exit_code == 0
    snapshot = graphlang(settings, stored_url, "export").stdout
    assert graphlang(settings, stored_url, "import", "-", stdin=snapshot).exit_code == 0
    assert exported_tables(settings, stored_url) == json.loads(snapshot)["tables"]


def test_worker_processes_read_a_large_file_to_the_same_rows(
        settings: Settings, stored_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Blocks of one or two lines, so owners are often in another block.
    monkeypatch.setattr(bulk_import, "BLOCK_BYTES", 200)
    # Workers that hold no user in mind: the owner of every language is found by this process.
    monkeypatch.setattr(jsonlines, "RECENT_USERS", 0)
    ids = [f"00000000-0000-4000-8000-{number:012d}" for number in range(8)]
    entries = [user(user_id, f"user{number}@contoso.com", displayName=f"User {number}")
               for number, user_id in enumerate(ids)]
    # Languages with different properties set, which are stored in groups by the columns they have,
    # and ids falling line by line, which a worker stores in id order.
    spoken = {"spoken": "fullProfessional", "isSearchable": True}
    inferred = {"inference": {"confidenceScore": 0.25}, "thumbnailUrl": "https://x.test/t"}
    settable: list[dict[str, Any]] = [{}, {}, {}, {}, spoken, spoken, inferred, inferred]
    entries += [language(user_id, id=f"10000000-0000-4000-8000-{99 - number:012d}", tag="en-US",
                         createdDateTime="2024-05-01T10:00:00Z", **settable[number])
                for number, user_id in enumerate(reversed(ids))]
    text = lines(*entries)
    content = [line.encode() for line in text.splitlines(keepends=True)]
    services = create_services(replace(settings, database_url=stored_url), auto_migrate=True)
    try:
        read_here = bulk_import.load_json_lines(services.store, content, TENANT)
        here = exported_tables(settings, stored_url)
        with bulk_import.line_readers() as readers:
            by_workers = bulk_import.load_json_lines_file(services.store, write(tmp_path, text), TENANT, readers)
            assert by_workers == read_here == {"users": 8, "languages": 8}
            assert exported_tables(settings, stored_url)["languages"] == here["languages"]
            later_user = write(tmp_path, lines(language(ids[0], tag="en-US"), *entries[:1]), "later.jsonl")
            with pytest.raises(JsonLinesError, match=f"Line 1: the member 'userId' names the user '{ids[0]}'"):
                bulk_import.load_json_lines_file(services.store, later_user, TENANT, readers)
    finally:
        services.close()
    assert exported_tables(settings, stored_url)["languages"] == here["languages"]


@pytest.mark.parametrize("block_lines", [None, 3000], ids=["read here", "read by workers"])
def test_a_refused_row_deep_in_a_batch_is_named_by_its_line(
        settings: Settings, stored_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        block_lines: int | None) -> None:
    ids = [f"20000000-0000-4000-8000-{number:012d}" for number in range(7000)]
    entries = [user(ADELE, "adele@contoso.com")] + [language(ADELE, id=item, tag="en-US") for item in ids]
    # Line 4900 repeats the id of line 4323: both in one worker's block (lines 3001 to 6000), and in one batch.
    entries.insert(4899, language(ADELE, id=ids[4321], tag="fr-FR"))
    text = lines(*entries)
    content = [line.encode() for line in text.splitlines(keepends=True)]
    services = create_services(replace(settings, database_url=stored_url), auto_migrate=True)
    try:
        if block_lines is None:
            with pytest.raises(BulkLoadError, match=r"^Line 4900 cannot be stored: "):
                bulk_import.load_json_lines(services.store, content, TENANT)
        else:
            monkeypatch.setattr(bulk_import, "BLOCK_BYTES", len(b"".join(content[1:block_lines + 1])))
            with bulk_import.line_readers() as readers, \
                    pytest.raises(BulkLoadError, match=r"^Line 4900 cannot be stored: "):
                bulk_import.load_json_lines_file(services.store, write(tmp_path, text), TENANT, readers)
        assert exported_tables(settings, stored_url)["languages"]["rows"] == []
    finally:
        services.close()


@pytest.mark.parametrize(("ending", "last_blocks"), [
    ("\n", [(4, b"c\nd\ne\nf\n")]),
    ("", [(4, b"c\nd\ne\n"), (7, b"f")]),  # the last line is read without a newline too
], ids=["ends with a newline", "ends without one"])
def test_a_file_is_cut_into_blocks_of_whole_lines_numbered_from_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ending: str, last_blocks: list[tuple[int, bytes]]) -> None:
    monkeypatch.setattr(bulk_import, "BLOCK_BYTES", 10)
    path = write(tmp_path, "a\n" + "b" * 25 + "\n\n" + "c\nd\ne\nf" + ending)
    data = path.read_bytes()
    with path.open("rb") as file:
        blocks = [(first, data[offset:offset + size]) for first, offset, size in bulk_import._blocks(file)]
    # A line longer than a block is a block of its own, with the blank line after it.
    assert blocks == [(1, b"a\n"), (2, b"b" * 25 + b"\n\n"), *last_blocks]


def test_a_line_without_a_newline_at_the_end_of_a_large_file_is_read(
        settings: Settings, stored_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_import, "BLOCK_BYTES", 100)
    text = lines(user(ADELE, "adele@contoso.com"), language(ADELE, tag="en-US"), language(ADELE, tag="fr-FR"))
    services = create_services(replace(settings, database_url=stored_url), auto_migrate=True)
    try:
        with bulk_import.line_readers() as readers:
            counts = bulk_import.load_json_lines_file(services.store, write(tmp_path, text.rstrip("\n")), TENANT,
                                                      readers)
    finally:
        services.close()
    assert counts == {"users": 1, "languages": 2}


def test_worker_processes_yield_the_cpu_to_the_process_that_stores() -> None:
    with bulk_import.line_readers() as readers:
        worker = readers.submit(os.getpriority, os.PRIO_PROCESS, 0).result()
    assert worker > os.getpriority(os.PRIO_PROCESS, 0)


def test_an_item_imported_again_with_other_values_is_read_with_them(
        make_client: MakeClient, tokens: Tokens, settings: Settings, stored_url: str, tmp_path: Path) -> None:
    # Same ids, version and timestamps, other values: a server that rendered the first import's item
    # must not answer with that rendering (every row an import stores gets a new write id).
    client = make_client(database_url=stored_url)
    stamps = {"createdDateTime": "2024-05-01T10:00:00Z", "lastModifiedDateTime": "2024-05-01T10:00:00Z"}
    reader = tokens.headers(upn=ADMIN_READER, scopes="User.Read.All")
    for tag in ("en-US", "de-DE"):
        path = write(tmp_path, lines(user(ADELE, "adele@contoso.com", tenantId=TENANT),
                                     language(ADELE, id=ENGLISH, tag=tag, **stamps)))
        assert graphlang(settings, stored_url, "import", str(path)).exit_code == 0
        assert read_item(client, tokens, ADELE, ENGLISH)["tag"] == tag
        listed = client.get(f"/beta/users/{ADELE}/profile/languages", headers=reader).json()["value"]
        assert [item["tag"] for item in listed] == [tag]

"""List queries read one user's index range, never the table: in the requested order, or sorted when it is
lastModifiedDateTime (a user's few rows, migration 0007)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from graphlang.services import Services
from graphlang.storage.store import oldest_with_tag
from tests.api.support import ME, create
from tests.factories import Tokens
from tests.odata.support import sql_statements


def listing_statement(client: TestClient, tokens: Tokens, services: Services, url: str) -> tuple[str, Any]:
    with sql_statements(services.engine) as statements:
        response = client.get(url, headers=tokens.headers())
    assert response.status_code == 200, response.text
    (found,) = [(s, p) for s, p in statements if "FROM languages" in s and "count(" not in s]
    return found


def plan(services: Services, statement: str, parameters: Any) -> str:
    with services.engine.connect() as conn:
        if services.store.is_postgres:
            # The tables are tiny; make the planner show which index it could use, not what is cheapest.
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_bitmapscan = off")
            rows = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
        else:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        conn.rollback()
    return "\n".join(str(row[-1]) for row in rows)


CASES = [
    ("", "ix_languages_user_created"),
    ("$filter=createdDateTime ge 2020-01-01T00:00:00Z", "ix_languages_user_created"),
]
# A user has a handful of languages: a filtered page reads that user's collection in the default
# order and checks the filter on each row, rather than keeping an index per filter for every write.
FILTERS = [
    "$filter=tag eq 'en-US'",
    "$filter=spoken eq 'nativeOrBilingual'",
    "$filter=written eq 'elementary'",
    "$filter=reading eq 'conversational'",
]


def seeks_one_users_rows(plan_text: str, index: str) -> bool:
    """Whether the plan seeks ``index`` to the user's rows (on user_id), rather than reading all of it."""
    if "Index Scan" in plan_text:  # PostgreSQL
        conditions = [line for line in plan_text.splitlines() if "Index Cond:" in line]
        return f"using {index} on languages" in plan_text and any(
            "(user_id)::text = " in condition for condition in conditions)
    return f"SEARCH languages USING INDEX {index} (user_id=?" in plan_text


def listing_plans(client: TestClient, tokens: Tokens, services: Services, query: str) -> list[str]:
    """The plans of a listing's first and second page."""
    headers = tokens.headers()
    for tag in ("en-US", "fr-FR", "en-US", "fr-FR"):
        create(client, headers, {"tag": tag, "spoken": "nativeOrBilingual", "written": "elementary",
                                 "reading": "conversational"})
    first = client.get(f"{ME}?{query}&$top=1", headers=headers).json()
    urls = [f"{ME}?{query}&$top=1", first["@odata.nextLink"]]
    if not query:
        # The first page in the default order is a prepared statement run on the DBAPI connection
        # (storage.prepared), out of sight of engine events; its later pages are compiled queries.
        urls = urls[1:]
    return [plan(services, *listing_statement(client, tokens, services, url)) for url in urls]


@pytest.mark.parametrize(("query", "index"), CASES, ids=[query or "default order" for query, _ in CASES])
def test_common_list_queries_seek_an_index_in_order(client: TestClient, tokens: Tokens, services: Services,
                                                    query: str, index: str) -> None:
    for text in listing_plans(client, tokens, services, query):
        assert seeks_one_users_rows(text, index), text
        assert "TEMP B-TREE" not in text and "Sort" not in text, text


@pytest.mark.parametrize("query", FILTERS)
def test_a_filtered_page_seeks_the_users_rows_in_the_default_order(
        client: TestClient, tokens: Tokens, services: Services, query: str) -> None:
    for text in listing_plans(client, tokens, services, query):
        assert seeks_one_users_rows(text, "ix_languages_user_created"), text
        assert "SCAN languages" not in text and "Seq Scan" not in text, text
        assert "TEMP B-TREE" not in text and "Sort" not in text, text


@pytest.mark.parametrize("query", ["$orderby=lastModifiedDateTime desc", "$orderby=lastModifiedDateTime"])
def test_a_page_in_last_modified_order_sorts_the_users_rows_not_the_table(
        client: TestClient, tokens: Tokens, services: Services, query: str) -> None:
    # No index on modified_ticks, which every write would move (migration 0007): a user's few rows
    # are read through the default order's index and sorted.
    for text in listing_plans(client, tokens, services, query):
        assert seeks_one_users_rows(text, "ix_languages_user_created"), text
        assert "SCAN languages" not in text and "Seq Scan" not in text, text


def test_an_upsert_looks_for_a_tag_among_the_users_rows_in_the_default_order(services: Services) -> None:
    # The first row with the tag in that order is the one an upsert takes: no index on the tag, no sort.
    with sql_statements(services.engine) as statements, services.engine.connect() as conn:
        oldest_with_tag(conn, "6f8e2b4a-1c3d-4e5f-8a9b-0c1d2e3f4a5b", "fr-fr")
    ((statement, parameters),) = statements
    text = plan(services, statement, parameters)
    assert seeks_one_users_rows(text, "ix_languages_user_created"), text
    assert "TEMP B-TREE" not in text and "Sort" not in text, text

"""Server-driven paging: $top as the page size, keyset skiptokens, and nextLinks that see every item once."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qsl, urlsplit

import pytest
from starlette.testclient import TestClient

from graphlang.config import Settings
from graphlang.services import Services
from tests.api.support import ME, assert_graph_error, create
from tests.factories import Tokens
from tests.odata.support import follow, ids, sql_statements

PAGE_SIZE = 5
MAX_PAGE_SIZE = 20


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)


def make(client: TestClient, headers: dict[str, str], count: int, **body: object) -> list[str]:
    return [create(client, headers, {"displayName": f"item {n:03}", **body})["id"] for n in range(count)]


def test_top_1_over_50_items_follows_next_links_to_exactly_50_distinct_items(
        client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    made = make(client, headers, 50)
    pages = follow(client, headers, f"{ME}?$top=1")
    assert len(pages) == 50
    assert all(len(page["value"]) == 1 for page in pages)
    assert ids(pages) == made  # the default order, createdDateTime asc
    assert "@odata.nextLink" not in pages[-1]


def test_inserts_and_deletes_between_pages_never_repeat_or_skip_an_item(
        client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    made = make(client, headers, 50)
    deleted_unseen: set[str] = set()
    inserted: list[str] = []
    seen: list[str] = []
    url: str | None = f"{ME}?$top=1"
    while url is not None:
        page = client.get(url, headers=headers).json()
        seen.extend(item["id"] for item in page["value"])
        url = page.get("@odata.nextLink")
        step = len(seen)
        if step % 7 == 0:  # delete the item just served, and one not served yet
            for victim in (seen[-1], made[min(step + 3, len(made) - 1)]):
                deleted = client.delete(f"{ME}/{victim}", headers=headers).status_code == 204
                if deleted and victim not in seen:
                    deleted_unseen.add(victim)
        if step % 5 == 0 and step <= 50:
            inserted.append(create(client, headers, {"displayName": f"late {step}"})["id"])
    assert len(seen) == len(set(seen)), "an item was served twice"
    expected = [item for item in made if item not in deleted_unseen] + inserted
    assert seen == expected


def test_orders_with_nulls_and_mixed_directions_page_exactly_like_one_big_page(
        client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    levels = [None, "elementary", "nativeOrBilingual", None, "conversational", "elementary"] * 4
    for n, level in enumerate(levels):
        create(client, headers, {"displayName": f"item {n % 3}", "spoken": level, "isSearchable": n % 2 == 0})
    for query, size in [("$filter=isSearchable eq true or spoken eq null&$orderby=spoken desc,displayName", 16),
                        ("$orderby=isSearchable desc,spoken,displayName desc", 24)]:
        whole = ids(follow(client, headers, f"{ME}?{query}&$top=20"))
        assert len(whole) == size
        for top in (1, 2, 3):
            assert ids(follow(client, headers, f"{ME}?{query}&$top={top}")) == whole


def test_pages_default_to_the_configured_page_size(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    made = make(client, headers, 12)
    pages = follow(client, headers, ME)
    assert [len(page["value"]) for page in pages] == [5, 5, 2]
    assert ids(pages) == made


def test_a_last_page_that_is_exactly_full_has_no_next_link(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    make(client, headers, 10)
    pages = follow(client, headers, ME)
    assert [len(page["value"]) for page in pages] == [5, 5]


def test_top_above_the_maximum_page_size_is_400(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    assert client.get(f"{ME}?$top={MAX_PAGE_SIZE}", headers=headers).status_code == 200
    assert_graph_error(client.get(f"{ME}?$top={MAX_PAGE_SIZE + 1}", headers=headers), 400, "BadRequest",
                       f"limit of {MAX_PAGE_SIZE}", "maximum page size")


def test_next_link_is_absolute_on_the_requests_host_and_keeps_the_other_options(
        client: TestClient, tokens: Tokens) -> None:
    headers = tokens.delegated(upn="nina@contoso.com")
    make(client, {"Authorization": f"Bearer {headers}"}, 4, spoken="elementary")
    path = "/beta/users/nina%40contoso.com/profile/languages"
    query = "$filter=spoken eq 'elementary'&$select=displayName&$count=true&$skip=1&$top=2&tenantHint=x"
    page = client.get(f"{path}?{query}", headers={"Authorization": f"Bearer {headers}"},
                      ).json()
    link = urlsplit(page["@odata.nextLink"])
    assert (link.scheme, link.netloc, link.path) == ("http", "testserver", path)
    options = dict(parse_qsl(link.query))
    assert options.pop("$skiptoken")
    assert options == {"$filter": "spoken eq 'elementary'", "$select": "displayName", "$count": "true",
                       "$top": "2", "tenantHint": "x"}
    assert "%20" in link.query and "+" not in link.query
    second = client.get(page["@odata.nextLink"], headers={"Authorization": f"Bearer {headers}"}).json()
    assert second["@odata.count"] == page["@odata.count"] == 4
    assert [len(page["value"]), len(second["value"])] == [2, 1]  # $skip=1 applied to the first page only
    assert set(second["value"][0]) == {"@odata.etag", "displayName"}
    assert "@odata.nextLink" not in second


def test_next_link_follows_the_host_the_client_used(client: TestClient, tokens: Tokens) -> None:
    headers = {**tokens.headers(), "Host": "graph.contoso.test:8443"}
    make(client, tokens.headers(), 2)
    link = client.get(f"{ME}?$top=1", headers=headers).json()["@odata.nextLink"]
    assert link.startswith("http://graph.contoso.test:8443/beta/me/profile/languages?")


def test_later_pages_seek_by_keyset_rather_than_offset(client: TestClient, tokens: Tokens,
                                                       services: Services) -> None:
    headers = tokens.headers()
    make(client, headers, 6)
    link = client.get(f"{ME}?$top=2&$skip=3", headers=headers).json()["@odata.nextLink"]
    with sql_statements(services.engine) as statements:
        assert client.get(link, headers=headers).status_code == 200
    (statement, parameters), = [(s, p) for s, p in statements if "FROM languages" in s]
    assert "created_ticks" in statement.split("WHERE", 1)[1]
    # PostgreSQL gets no OFFSET at all; SQLite's dialect always writes one, here with 0.
    assert "OFFSET" not in statement or list(parameters)[-1] == 0


def tampered(link: str) -> str:
    token = dict(parse_qsl(urlsplit(link).query))["$skiptoken"]
    swapped = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    return link.replace(token, swapped)


def test_a_tampered_skiptoken_is_400(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    make(client, headers, 3)
    link = client.get(f"{ME}?$top=1", headers=headers).json()["@odata.nextLink"]
    assert_graph_error(client.get(tampered(link), headers=headers), 400, "BadRequest", "$skiptoken")
    assert_graph_error(client.get(f"{ME}?$skiptoken=garbage", headers=headers), 400, "BadRequest", "$skiptoken")
    assert_graph_error(client.get(f"{ME}?$skiptoken=", headers=headers), 400, "BadRequest", "$skiptoken")


def test_a_skiptoken_from_another_query_or_user_is_400(client: TestClient, tokens: Tokens) -> None:
    alice, bob = tokens.headers(), tokens.headers(upn="bob@contoso.com")
    make(client, alice, 3)
    make(client, bob, 3)
    link = client.get(f"{ME}?$top=1&$orderby=displayName", headers=alice).json()["@odata.nextLink"]
    token = dict(parse_qsl(urlsplit(link).query))["$skiptoken"]
    assert client.get(link, headers=alice).status_code == 200
    assert_graph_error(client.get(link, headers=bob), 400, "BadRequest", "$skiptoken")
    for other in ("$orderby=displayName desc", "$orderby=tag", "$filter=tag eq null&$orderby=displayName"):
        response = client.get(f"{ME}?{other}&$top=1&$skiptoken={token}", headers=alice)
        assert_graph_error(response, 400, "BadRequest", "another query")


OWNER = "page-owner@contoso.com"


def others_list(owner: str = OWNER) -> str:
    return f"/beta/users/{owner}/profile/languages"


def test_another_users_first_page_read_again_from_its_renderings_is_the_same(
        client: TestClient, tokens: Tokens) -> None:
    """A page of items this process has rendered is answered from those renderings when nothing
    follows it: the same items, and a nextLink exactly when more follow."""
    owner, reader = tokens.headers(upn=OWNER), tokens.headers(upn="reader@contoso.com", scopes="User.Read.All")
    made = make(client, owner, PAGE_SIZE)
    first, again = (client.get(others_list(), headers=reader).json() for _ in range(2))
    assert ids([first]) == ids([again]) == made
    assert "@odata.nextLink" not in again
    made += make(client, owner, 1)
    pages = [client.get(others_list(), headers=reader).json() for _ in range(2)]
    assert all(len(page["value"]) == PAGE_SIZE and "@odata.nextLink" in page for page in pages)
    assert ids(follow(client, reader, others_list())) == made


def test_another_user_without_languages_has_an_empty_first_page(client: TestClient, tokens: Tokens) -> None:
    client.get("/beta/me/profile/languages", headers=tokens.headers(upn=OWNER))  # the user exists, with none
    reader = tokens.headers(upn="reader@contoso.com", scopes="User.Read.All")
    for _ in range(2):
        listed = client.get(others_list(), headers=reader)
        assert listed.status_code == 200, listed.text
        assert listed.json()["value"] == []


def test_the_first_page_of_a_user_who_does_not_exist_is_404(client: TestClient, tokens: Tokens) -> None:
    missing = client.get(others_list("nobody@contoso.com"),
                         headers=tokens.headers(upn="reader@contoso.com", scopes="User.Read.All"))
    assert_graph_error(missing, 404, "Request_ResourceNotFound")

"""The route tree: which route a path names, and with what parameters."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response

from graphlang.api.context import RequestContext
from graphlang.api.routing import Route, Router, split_path


async def handler(ctx: RequestContext, params: Mapping[str, str]) -> Response:
    return Response()


def route(*pattern: str) -> Route:
    return Route(pattern, {"GET": handler})


ITEM = route("users", "{user}", "profile", "languages", "{language}")
COUNT = route("users", "{user}", "profile", "languages", "$count")
ME = route("me", "profile", "languages")
ISSUER = route("{tenant}", "v2.0", ".well-known", "openid-configuration")


def test_parameters_are_named_as_the_route_names_them() -> None:
    found = Router([ITEM]).match(["users", "adele@contoso.com", "profile", "languages", "abc"])
    assert found == (ITEM, {"user": "adele@contoso.com", "language": "abc"})


def test_literals_match_case_insensitively_and_parameters_keep_their_case() -> None:
    found = Router([ITEM]).match(["USERS", "Adele", "Profile", "LANGUAGES", "AbC"])
    assert found == (ITEM, {"user": "Adele", "language": "AbC"})


def test_a_parameter_never_takes_a_dollar_segment() -> None:
    assert Router([ITEM]).match(["users", "u", "profile", "languages", "$count"]) is None
    assert Router([ITEM, COUNT]).match(["users", "u", "profile", "languages", "$count"]) == (COUNT, {"user": "u"})


def test_where_two_routes_match_the_first_given_wins() -> None:
    literal_first = route("users", "me", "profile", "languages")
    parameter = route("users", "{user}", "profile", "languages")
    path = ["users", "me", "profile", "languages"]
    assert Router([literal_first, parameter]).match(path) == (literal_first, {})
    assert Router([parameter, literal_first]).match(path) == (parameter, {"user": "me"})


def test_a_path_longer_or_shorter_than_every_route_matches_none() -> None:
    router = Router([ITEM, ME, ISSUER])
    assert router.match(["me", "profile"]) is None
    assert router.match(["me", "profile", "languages", "x", "y"]) is None
    assert router.match([]) is None


def test_a_parameter_at_the_root_does_not_hide_literal_routes() -> None:
    router = Router([ISSUER, ME])
    assert router.match(["me", "profile", "languages"]) == (ME, {})
    assert router.match(["contoso", "v2.0", ".well-known", "openid-configuration"]) == (ISSUER, {"tenant": "contoso"})


def test_split_path_decodes_each_segment_on_its_own() -> None:
    assert split_path(b"/beta/users/a%2Fb%40c/profile") == ["beta", "users", "a/b@c", "profile"]
    assert split_path(b"//beta///me/") == ["beta", "me"]
    assert split_path(b"/beta/users('o''hara')/profile") == ["beta", "users", "o'hara", "profile"]


def test_where_a_literal_leads_nowhere_the_parameter_beside_it_still_matches() -> None:
    by_name = route("users", "me", "settings")
    by_id = route("users", "{user}", "profile")
    router = Router([by_name, by_id])
    assert router.match(["users", "me", "profile"]) == (by_id, {"user": "me"})
    assert router.match(["users", "me", "settings"]) == (by_name, {})
    assert router.match(["users", "me", "nothing"]) is None


def test_routes_beginning_with_a_literal_or_a_parameter_are_tried_in_the_order_given() -> None:
    by_tenant = route("{tenant}", "profile", "languages")
    path = ["me", "profile", "languages"]
    assert Router([by_tenant, ME]).match(path) == (by_tenant, {"tenant": "me"})
    assert Router([ME, by_tenant]).match(path) == (ME, {})
    assert Router([ME, by_tenant]).match(["contoso", "profile", "languages"]) == (by_tenant, {"tenant": "contoso"})
    assert Router([ME, by_tenant]).match(["$batch", "profile", "languages"]) is None

"""Throttling: a token bucket per user and per app, answered as Graph answers (spec §6)."""

from __future__ import annotations

import uuid

import pytest
from starlette.testclient import TestClient

from graphlang.config import Settings
from graphlang.controls.throttle import ThrottlePolicy
from tests.api.controls_support import ADMIN, MakeClient, journal
from tests.api.support import ME, assert_graph_error, create, listed
from tests.factories import Tokens

APP_ID = "9d2c1f4e-0000-4000-8000-00000000a001"


def throttled(make_client: MakeClient, user_limit: int = 2, app_limit: int = 1000, **more: object) -> TestClient:
    return make_client(throttle=True, throttle_user_limit=user_limit, throttle_app_limit=app_limit,
                       throttle_window_seconds=60, **more)


def test_throttling_is_off_by_default_in_emulator_mode_and_on_in_service_mode(settings: Settings) -> None:
    assert settings.auth == "emulator"
    assert ThrottlePolicy.from_settings(settings).enabled is False
    assert ThrottlePolicy.from_settings(settings.with_overrides(auth="oidc")).enabled is True
    assert ThrottlePolicy.from_settings(settings.with_overrides(auth="oidc", throttle=False)).enabled is False


def test_emulator_answers_every_request_when_throttling_is_off(make_client: MakeClient, tokens: Tokens) -> None:
    client = make_client(throttle_user_limit=1)
    headers = tokens.headers()
    assert [client.get(ME, headers=headers).status_code for _ in range(5)] == [200] * 5


def test_user_over_the_limit_gets_429_with_retry_after_and_graphs_throttling_body(
        make_client: MakeClient, tokens: Tokens) -> None:
    client = throttled(make_client)
    headers = tokens.headers()
    assert [client.get(ME, headers=headers).status_code for _ in range(2)] == [200, 200]
    response = client.get(ME, headers=headers)
    error = assert_graph_error(response, 429, "TooManyRequests")
    assert error["message"] == "Please retry again later."
    inner = error["innerError"]
    assert inner["code"] == "429"
    assert inner["status"] == "429"
    assert inner["message"] == "Please retry after"
    # Whole seconds: the SDKs' retry handlers parse Retry-After as an integer. One token of a
    # 2-per-60-seconds bucket comes back after 30 seconds.
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit()
    assert 1 <= int(retry_after) <= 30


def test_each_user_has_a_bucket_of_their_own(make_client: MakeClient, tokens: Tokens) -> None:
    client = throttled(make_client, user_limit=1)
    alice, bob = tokens.headers(upn="alice@contoso.com"), tokens.headers(upn="bob@contoso.com")
    assert client.get(ME, headers=alice).status_code == 200
    assert client.get(ME, headers=alice).status_code == 429
    assert client.get(ME, headers=bob).status_code == 200


def test_an_apps_bucket_is_shared_by_all_of_its_users(make_client: MakeClient, tokens: Tokens) -> None:
    client = throttled(make_client, user_limit=100, app_limit=2)
    alice = tokens.headers(tokens.delegated("alice@contoso.com", app_id=APP_ID))
    bob = tokens.headers(tokens.delegated("bob@contoso.com", app_id=APP_ID))
    carol_elsewhere = tokens.headers(upn="carol@contoso.com")
    assert client.get(ME, headers=alice).status_code == 200
    assert client.get(ME, headers=bob).status_code == 200
    assert client.get(ME, headers=alice).status_code == 429
    assert client.get(ME, headers=carol_elsewhere).status_code == 200
    assert journal(client, status="429")[-1]["applied"] == ["throttle:app"]


def test_a_refused_request_does_not_use_up_the_other_bucket(make_client: MakeClient, tokens: Tokens) -> None:
    client = throttled(make_client, user_limit=1, app_limit=2)
    alice = tokens.headers(tokens.delegated("alice@contoso.com", app_id=APP_ID))
    bob = tokens.headers(tokens.delegated("bob@contoso.com", app_id=APP_ID))
    assert client.get(ME, headers=alice).status_code == 200
    # Refused by alice's own bucket: the app's second token stays for bob.
    assert client.get(ME, headers=alice).status_code == 429
    assert client.get(ME, headers=bob).status_code == 200


def test_a_throttled_write_changes_nothing(make_client: MakeClient, tokens: Tokens) -> None:
    client = throttled(make_client, user_limit=1)
    headers = tokens.headers()
    create(client, headers, {"tag": "en-US"})
    refused = client.post(ME, headers=headers, json={"tag": "fr-FR"})
    assert_graph_error(refused, 429, "TooManyRequests")
    client.patch("/_graphlang/throttling", headers=ADMIN, json={"enabled": False})
    assert [item["tag"] for item in listed(client, headers)] == ["en-US"]


def test_inner_requests_of_a_batch_are_throttled_one_by_one_and_the_batch_itself_is_not(
        make_client: MakeClient, tokens: Tokens) -> None:
    client = throttled(make_client, user_limit=2)
    response = client.post("/beta/$batch", headers=tokens.headers(), json={"requests": [
        {"id": str(n), "method": "GET", "url": "/me/profile/languages"} for n in (1, 2, 3)]})
    assert response.status_code == 200, response.text
    results = {r["id"]: r for r in response.json()["responses"]}
    assert [results[n]["status"] for n in ("1", "2", "3")] == [200, 200, 429]
    assert results["3"]["headers"]["Retry-After"].isdigit()
    assert results["3"]["body"]["error"]["code"] == "TooManyRequests"


def test_unauthenticated_and_control_requests_are_not_throttled(make_client: MakeClient, tokens: Tokens) -> None:
    client = throttled(make_client, user_limit=1)
    assert [client.get(ME).status_code for _ in range(3)] == [401] * 3
    assert [client.get("/_graphlang/health").status_code for _ in range(3)] == [200] * 3


def test_throttling_settings_change_at_runtime_until_the_next_reset(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    assert client.get("/_graphlang/throttling", headers=ADMIN).json() == {
        "enabled": False, "userLimit": 1000, "appLimit": 20000, "windowSeconds": 10}
    changed = client.patch("/_graphlang/throttling", headers=ADMIN, json={"enabled": True, "userLimit": 1})
    assert changed.status_code == 200
    assert changed.json()["userLimit"] == 1
    assert [client.get(ME, headers=headers).status_code for _ in range(2)] == [200, 429]
    assert client.post("/_graphlang/reset", headers=ADMIN).status_code == 200
    assert client.get("/_graphlang/throttling", headers=ADMIN).json()["enabled"] is False
    assert client.get(ME, headers=headers).status_code == 200


@pytest.mark.parametrize(("body", "named"), [
    ({"userLimit": 0}, "userLimit"),
    ({"windowSeconds": "10"}, "windowSeconds"),
    ({"enabled": "yes"}, "enabled"),
    ({"burst": 5}, "burst"),
])
def test_bad_throttling_settings_are_400_naming_the_member_and_change_nothing(
        client: TestClient, body: dict[str, object], named: str) -> None:
    before = client.get("/_graphlang/throttling", headers=ADMIN).json()
    assert_graph_error(client.patch("/_graphlang/throttling", headers=ADMIN, json=body), 400, "BadRequest", named)
    assert client.get("/_graphlang/throttling", headers=ADMIN).json() == before


# -- Redis: buckets shared by every instance ------------------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379/0"


def test_instances_sharing_redis_draw_from_the_same_buckets(make_client: MakeClient, tokens: Tokens) -> None:
    first = throttled(make_client, user_limit=2, redis_url=REDIS_URL)
    second = throttled(make_client, user_limit=2, redis_url=REDIS_URL)
    # A user of this test alone: other runs may share the Redis server.
    headers = tokens.headers(upn=f"redis-{uuid.uuid4().hex[:12]}@contoso.com")
    assert first.get(ME, headers=headers).status_code == 200
    assert second.get(ME, headers=headers).status_code == 200
    response = first.get(ME, headers=headers)
    assert_graph_error(response, 429, "TooManyRequests")
    assert 1 <= int(response.headers["Retry-After"]) <= 30
    assert second.get(ME, headers=headers).status_code == 429


def test_requests_are_admitted_when_redis_is_unreachable(make_client: MakeClient, tokens: Tokens) -> None:
    client = throttled(make_client, user_limit=1, redis_url="redis://127.0.0.1:1/0")
    headers = tokens.headers()
    assert [client.get(ME, headers=headers).status_code for _ in range(3)] == [200] * 3

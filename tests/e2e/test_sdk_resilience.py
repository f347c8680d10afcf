"""Testing client resilience with graphlang: the official SDK's retry handler against injected faults."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_http.middleware.options import RetryHandlerOption
from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError

from tests.e2e.process import GraphlangServer, SdkClient

pytestmark = pytest.mark.e2e

MakeSdk = Callable[[str], SdkClient]


class Control:
    """The control API of the shared server, as a test suite would drive it."""

    def __init__(self, server: GraphlangServer) -> None:
        self.base = f"{server.base_url}/_graphlang"
        self.headers = {"x-graphlang-admin-token": server.admin_token}

    def add_fault(self, rule: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(f"{self.base}/faults", headers=self.headers, json=rule, timeout=10)
        assert response.status_code == 201, response.text
        added: dict[str, Any] = response.json()
        return added

    def fault(self, rule_id: str) -> dict[str, Any]:
        found: dict[str, Any] = httpx.get(f"{self.base}/faults/{rule_id}", headers=self.headers, timeout=10).json()
        return found

    def remove_fault(self, rule_id: str) -> None:
        httpx.delete(f"{self.base}/faults/{rule_id}", headers=self.headers, timeout=10)

    def journal_of(self, caller: str) -> list[dict[str, Any]]:
        entries = httpx.get(f"{self.base}/requests", headers=self.headers, timeout=10).json()["value"]
        return [entry for entry in entries if entry["caller"] == caller]


@pytest.fixture
def control(graphlang_server: GraphlangServer) -> Control:
    return Control(graphlang_server)


def unique_user() -> str:
    # The server is shared by this module's tests: each test works as a user of its own.
    return f"resilience-{uuid.uuid4().hex[:10]}@contoso.com"


def retrying(max_retries: int) -> RequestConfiguration[Any]:
    """The SDK's retry handler switched on for one call, with a small base delay."""
    return RequestConfiguration(options=[RetryHandlerOption(delay=0.1, max_retries=max_retries,
                                                            should_retry=True)])


def test_the_sdk_retry_handler_recovers_from_an_injected_429_after_retry_after(
        graphlang_server: GraphlangServer, make_sdk_client: MakeSdk, control: Control) -> None:
    user = unique_user()
    sdk = make_sdk_client(graphlang_server.token(user))
    rule = control.add_fault({"method": "GET", "path": "/beta/me/profile/languages", "caller": user,
                              "status": 429, "count": 2, "retryAfter": 1})
    try:
        languages = asyncio.run(sdk.client.me().profile.languages.get(request_configuration=retrying(3)))
        fired = control.fault(rule["id"])["fired"]
    finally:
        control.remove_fault(rule["id"])
    assert languages is not None and languages.value == []
    assert fired == 2
    entries = control.journal_of(user)
    assert [entry["status"] for entry in entries] == [429, 429, 200]
    assert [entry["applied"] for entry in entries] == [[f"fault:{rule['id']}"]] * 2 + [[]]
    # The SDK waited as long as Retry-After asked each time: no client mistakes.
    assert [entry["clientMistake"] for entry in entries] == [None, None, None]


def test_without_retries_the_sdk_surfaces_graphs_throttling_error(
        graphlang_server: GraphlangServer, make_sdk_client: MakeSdk, control: Control) -> None:
    user = unique_user()
    sdk = make_sdk_client(graphlang_server.token(user))
    rule = control.add_fault({"caller": user, "status": 429, "count": 1, "retryAfter": 5})
    try:
        with pytest.raises(ODataError) as caught:
            asyncio.run(sdk.client.me().profile.languages.get())
    finally:
        control.remove_fault(rule["id"])
    error = caught.value
    assert error.response_status_code == 429
    assert error.error is not None and error.error.code == "TooManyRequests"
    assert error.error.message == "Please retry again later."
    assert error.error.inner_error is not None and error.error.inner_error.request_id


def test_the_retry_handler_gives_up_after_its_retries_and_the_journal_shows_each_attempt(
        graphlang_server: GraphlangServer, make_sdk_client: MakeSdk, control: Control) -> None:
    user = unique_user()
    sdk = make_sdk_client(graphlang_server.token(user))
    rule = control.add_fault({"caller": user, "status": 503, "retryAfter": 1})
    try:
        with pytest.raises(ODataError) as caught:
            asyncio.run(sdk.client.me().profile.languages.get(request_configuration=retrying(1)))
    finally:
        control.remove_fault(rule["id"])
    assert caught.value.response_status_code == 503
    assert [entry["status"] for entry in control.journal_of(user)] == [503, 503]

"""Reading a request body from its ASGI messages: whole however it is split, refused past the limit,
and a client that goes away while sending it is not mistaken for an empty body."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message

from graphlang.api.body import read_body, read_json
from graphlang.errors import BadRequest, PayloadTooLarge


def request(*messages: Message, content_type: str = "application/json") -> Request:
    queue = list(messages)

    async def receive() -> Message:
        return queue.pop(0)

    scope = {"type": "http", "method": "POST", "path": "/", "query_string": b"",
             "headers": [(b"content-type", content_type.encode())]}
    return Request(scope, receive)


def part(body: bytes, more: bool = False) -> Message:
    return {"type": "http.request", "body": body, "more_body": more}


def read(source: Request, limit: int = 1024) -> Any:
    return asyncio.run(read_json(source, limit))


def test_a_body_split_over_several_messages_is_read_whole() -> None:
    source = request(part(b'{"tag": ', more=True), part(b"", more=True), part(b'"en-US"}'))
    assert read(source) == {"tag": "en-US"}


def test_the_limit_counts_every_message_of_the_body() -> None:
    source = request(part(b"x" * 600, more=True), part(b"x" * 600))
    with pytest.raises(PayloadTooLarge):
        asyncio.run(read_body(source, 1024))


def test_a_client_that_disconnects_while_sending_is_not_read_as_a_short_body() -> None:
    source = request(part(b'{"tag": ', more=True), {"type": "http.disconnect"})
    with pytest.raises(ClientDisconnect):
        read(source)


@pytest.mark.parametrize("body", [
    b'{"tag": "en-US", "tag": "fr-FR"}',
    b'{"displayName": "a: b", "tag": "en-US", "tag": "fr-FR"}',
    b'{"tag": "en-US", "t\\u0061g": "fr-FR"}',
    b'{"inference": {"confidenceScore": 1, "confidenceScore": 2}}',
    b'[{"tag": "en-US", "tag": "fr-FR"}]',
])
def test_a_name_given_twice_in_one_object_is_refused(body: bytes) -> None:
    with pytest.raises(BadRequest, match="Multiple properties"):
        read(request(part(body)))


@pytest.mark.parametrize("body", [
    b'{"tag": "en-US", "spoken": "elementary"}',
    b'{"displayName": "a: b", "tag": "en-US"}',
    b'{"tag": "en-US", "inference": {"confidenceScore": 1}, "source": {"type": "User"}}',
    b'{"sources": [{"sourceId": "a"}, {"sourceId": "b"}]}',
])
def test_the_same_name_in_different_objects_is_no_duplicate(body: bytes) -> None:
    assert isinstance(read(request(part(body))), dict)

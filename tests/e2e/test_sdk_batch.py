"""A $batch sent through msgraph_core's batch classes, with the workarounds sdk-notes.md lists."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from kiota_abstractions.serialization import ParseNode
from msgraph_beta.generated.models.language_proficiency import LanguageProficiency
from msgraph_beta.generated.models.language_proficiency_collection_response import (
    LanguageProficiencyCollectionResponse,
)
from msgraph_beta.generated.models.language_proficiency_level import LanguageProficiencyLevel
from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_core.requests.batch_request_builder import BatchRequestBuilder
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem
from msgraph_core.requests.batch_response_item import BatchResponseItem

from tests.e2e.process import GraphlangServer, SdkClient

pytestmark = pytest.mark.e2e


@pytest.fixture
def json_bodies_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bug 4 (kiota-python#737): BatchResponseItem reads ``body`` as base64 only and drops Graph's JSON
    object bodies. Keep a JSON object or array as its UTF-8 bytes; base64 strings still decode."""
    original = BatchResponseItem.get_field_deserializers

    def deserializers(self: BatchResponseItem) -> dict[str, Callable[[ParseNode], None]]:
        fields = original(self)
        read_base64 = fields["body"]

        def body(node: Any) -> None:
            if isinstance(node._json_node, dict | list):
                self.body = json.dumps(node._json_node).encode()  # bytes, as a base64 body becomes
            else:
                read_base64(node)

        return {**fields, "body": body}

    monkeypatch.setattr(BatchResponseItem, "get_field_deserializers", deserializers)


def batch_item(request_information: Any, ident: str, base_url: str,
               depends_on: list[str | BatchRequestItem] | None = None) -> BatchRequestItem:
    """Bug 1: the id must be given to BatchRequestItem itself (add_request_information would replace it
    with a uuid). Bug 2: the item keeps the request's URL, which is absolute once the adapter has sent
    a request, so it is rewritten relative to the version root."""
    item = BatchRequestItem(request_information=request_information, id=ident, depends_on=depends_on)
    path = urlsplit(item.url)
    root = urlsplit(base_url).path.rstrip("/")
    relative = path.path.removeprefix(root) if path.path.startswith(f"{root}/") else path.path
    item.url = f"{relative}?{path.query}" if path.query else relative
    return item


def test_sdk_batch_runs_dependent_requests_and_reads_typed_results(
        graphlang_server: GraphlangServer, make_sdk_client: Callable[[str], SdkClient],
        json_bodies_kept: None) -> None:
    sdk = make_sdk_client(graphlang_server.token("sdk-batch@contoso.com"))
    languages = sdk.client.me().profile.languages

    async def scenario() -> tuple[Any, Any]:
        existing = await languages.post(LanguageProficiency(tag="en-US", spoken=LanguageProficiencyLevel.Elementary))
        item = languages.by_language_proficiency_id(existing.id)
        create = batch_item(languages.to_post_request_information(
            LanguageProficiency(tag="fr-FR", written=LanguageProficiencyLevel.FullProfessional)), "1", sdk.base_url)
        update = batch_item(item.to_patch_request_information(
            LanguageProficiency(spoken=LanguageProficiencyLevel.NativeOrBilingual)), "2", sdk.base_url, [create])
        read = batch_item(languages.to_get_request_information(), "3", sdk.base_url, ["2"])
        missing = batch_item(languages.by_language_proficiency_id("0b8f8a8e-0000-4000-8000-000000000000")
                             .to_get_request_information(), "4", sdk.base_url)
        blocked = batch_item(item.to_delete_request_information(), "5", sdk.base_url, [missing])
        content = BatchRequestContent()
        for request in (create, update, read, missing, blocked):
            content.add_request(request.id, request)
        # Bug 3 needs nothing here: the SDK sends "depends_on", which graphlang accepts.
        response = await BatchRequestBuilder(sdk.adapter, {"XXX": ODataError}).post(content)
        return response, await item.get()

    response, after = asyncio.run(scenario())
    assert response.get_response_status_codes() == {"1": 201, "2": 200, "3": 200, "4": 404, "5": 424}
    created = response.get_response_by_id("1", LanguageProficiency)
    assert created.tag == "fr-FR"
    assert created.display_name == "French"
    assert created.written == LanguageProficiencyLevel.FullProfessional
    assert response.get_response_by_id("2", LanguageProficiency).spoken == LanguageProficiencyLevel.NativeOrBilingual
    listed = response.get_response_by_id("3", LanguageProficiencyCollectionResponse)
    assert sorted(language.tag for language in listed.value) == ["en-US", "fr-FR"]
    failed = json.loads(response.get_response_stream_by_id("5").getvalue())
    assert failed["error"]["code"] == "FailedDependency"
    assert after.spoken == LanguageProficiencyLevel.NativeOrBilingual  # not deleted: its dependency failed

"""Query options and paging through the official msgraph-beta-sdk, against a real ``graphlang serve``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph_beta.generated.models.language_proficiency import LanguageProficiency
from msgraph_beta.generated.models.language_proficiency_level import LanguageProficiencyLevel
from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_beta.generated.users.item.profile.languages.count.count_request_builder import CountRequestBuilder
from msgraph_beta.generated.users.item.profile.languages.languages_request_builder import LanguagesRequestBuilder
from msgraph_core.tasks.page_iterator import PageIterator

from tests.e2e.process import GraphlangServer, SdkClient

pytestmark = pytest.mark.e2e

MakeSdk = Callable[[str], SdkClient]
Query = LanguagesRequestBuilder.LanguagesRequestBuilderGetQueryParameters
CountQuery = CountRequestBuilder.CountRequestBuilderGetQueryParameters
TAGS = ["en-US", "fr-FR", "de-DE", "nb-NO", "es-ES", "it-IT"]


def seeded(graphlang_server: GraphlangServer, make_sdk_client: MakeSdk, user: str) -> SdkClient:
    """A client for ``user``, who has one language per tag in TAGS (in that order); every other one native."""
    sdk = make_sdk_client(graphlang_server.token(user=user))

    async def seed() -> None:
        for n, tag in enumerate(TAGS):
            level = LanguageProficiencyLevel.NativeOrBilingual if n % 2 == 0 else LanguageProficiencyLevel.Elementary
            await sdk.client.me().profile.languages.post(LanguageProficiency(tag=tag, spoken=level))

    asyncio.run(seed())
    return sdk


def listed(sdk: SdkClient, **query: Any) -> Any:
    return asyncio.run(sdk.client.me().profile.languages.get(RequestConfiguration(query_parameters=Query(**query))))


def tags(response: Any) -> list[str]:
    return [item.tag for item in response.value]


def test_sdk_filter_orderby_top_skip_and_count(graphlang_server: GraphlangServer, make_sdk_client: MakeSdk) -> None:
    sdk = seeded(graphlang_server, make_sdk_client, "sdk-query@contoso.com")
    assert tags(listed(sdk)) == TAGS  # createdDateTime asc
    assert tags(listed(sdk, filter="spoken eq 'nativeOrBilingual'")) == ["en-US", "de-DE", "es-ES"]
    assert tags(listed(sdk, filter="startswith(tag, 'e') or tag eq 'it-IT'")) == ["en-US", "es-ES", "it-IT"]
    assert tags(listed(sdk, orderby=["spoken desc", "tag"])) == ["de-DE", "en-US", "es-ES", "fr-FR", "it-IT", "nb-NO"]
    assert tags(listed(sdk, orderby=["tag desc"], skip=2)) == ["fr-FR", "es-ES", "en-US", "de-DE"]
    first = listed(sdk, top=2, count=True, select=["tag"])
    assert tags(first) == ["en-US", "fr-FR"]
    assert first.odata_count == 6
    assert first.odata_next_link.startswith(f"{sdk.base_url}/me/profile/languages?")
    assert first.value[0].spoken is None  # not selected


def test_sdk_count_segment(graphlang_server: GraphlangServer, make_sdk_client: MakeSdk) -> None:
    sdk = seeded(graphlang_server, make_sdk_client, "sdk-count@contoso.com")
    count = sdk.client.me().profile.languages.count
    assert asyncio.run(count.get()) == 6
    only_native = RequestConfiguration(query_parameters=CountQuery(filter="spoken eq 'nativeOrBilingual'"))
    assert asyncio.run(count.get(only_native)) == 3


def test_sdk_page_iterator_visits_every_item_once(graphlang_server: GraphlangServer,
                                                  make_sdk_client: MakeSdk) -> None:
    sdk = seeded(graphlang_server, make_sdk_client, "sdk-pages@contoso.com")

    async def scenario() -> list[str]:
        first = await sdk.client.me().profile.languages.get(
            RequestConfiguration(query_parameters=Query(top=1, orderby=["tag"])))
        seen: list[str] = []

        def visit(item: LanguageProficiency) -> bool:
            seen.append(item.tag)
            return True  # PageIterator stops at the first falsy answer

        iterator = PageIterator(first, sdk.adapter, error_mapping={"XXX": ODataError})
        await iterator.iterate(visit)
        return seen

    assert asyncio.run(scenario()) == sorted(TAGS)


def test_sdk_sees_precise_query_errors(graphlang_server: GraphlangServer, make_sdk_client: MakeSdk) -> None:
    sdk = make_sdk_client(graphlang_server.token(user="sdk-query-errors@contoso.com"))
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"filter": "spoken eq 5"}, "BadRequest", "Type mismatch"),
        ({"filter": "tag eq eq"}, "BadRequest", "position 7"),
        ({"expand": ["createdBy"]}, "ExpandNotSupported", "'$expand' is not supported"),
        ({"search": "english"}, "notSupported", "'$search' is not supported"),
        ({"top": 1000}, "BadRequest", "limit of 999"),
    ]
    for query, code, words in cases:
        with pytest.raises(ODataError) as caught:
            listed(sdk, **query)
        assert caught.value.response_status_code == 400
        assert caught.value.error.code == code
        assert words in caught.value.error.message

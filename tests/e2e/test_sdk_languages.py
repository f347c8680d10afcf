"""The official msgraph-beta-sdk, unchanged, against a real ``graphlang serve`` process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph_beta.generated.models.allowed_audiences import AllowedAudiences
from msgraph_beta.generated.models.inference_data import InferenceData
from msgraph_beta.generated.models.language_proficiency import LanguageProficiency
from msgraph_beta.generated.models.language_proficiency_level import LanguageProficiencyLevel
from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_beta.generated.models.person_data_sources import PersonDataSources
from msgraph_beta.generated.models.profile_source_annotation import ProfileSourceAnnotation
from msgraph_beta.generated.users.item.profile.languages.item.language_proficiency_item_request_builder import (
    LanguageProficiencyItemRequestBuilder,
)
from msgraph_beta.generated.users.item.profile.languages.languages_request_builder import LanguagesRequestBuilder

from tests.e2e.process import GraphlangServer, SdkClient

pytestmark = pytest.mark.e2e

MakeSdk = Callable[[str], SdkClient]
ItemQuery = LanguageProficiencyItemRequestBuilder.LanguageProficiencyItemRequestBuilderGetQueryParameters
ListQuery = LanguagesRequestBuilder.LanguagesRequestBuilderGetQueryParameters


def full_language() -> LanguageProficiency:
    """A language with every property the SDK can send set."""
    return LanguageProficiency(
        display_name="Norwegian Bokmål",
        tag="nb-NO",
        spoken=LanguageProficiencyLevel.NativeOrBilingual,
        written=LanguageProficiencyLevel.ProfessionalWorking,
        reading=LanguageProficiencyLevel.FullProfessional,
        proficiency=LanguageProficiencyLevel.Conversational,
        thumbnail_url="https://example.test/nb.png",
        allowed_audiences=AllowedAudiences.Contacts,
        is_searchable=True,
        inference=InferenceData(confidence_score=0.75, user_has_verified_accuracy=False),
        source=PersonDataSources(type=["User"]),
        sources=[ProfileSourceAnnotation(source_id="46a57efc-33f8-4eec-a512-b90039ad6187",
                                         is_default_source=True, properties=["tag"])],
    )


async def expect_odata_error(call: Any) -> ODataError:
    with pytest.raises(ODataError) as caught:
        await call
    return caught.value


def assert_aware(moment: datetime | None) -> None:
    assert moment is not None and moment.tzinfo is not None and moment.utcoffset() is not None


def assert_every_field_parsed(got: LanguageProficiency, oid: str, name: str) -> None:
    assert isinstance(got.id, str) and len(got.id) == 36
    assert got.display_name == "Norwegian Bokmål"
    assert got.tag == "nb-NO"
    assert got.spoken is LanguageProficiencyLevel.NativeOrBilingual
    assert got.written is LanguageProficiencyLevel.ProfessionalWorking
    assert got.reading is LanguageProficiencyLevel.FullProfessional
    assert got.proficiency is LanguageProficiencyLevel.Conversational
    assert got.thumbnail_url == "https://example.test/nb.png"
    assert got.allowed_audiences == [AllowedAudiences.Contacts]
    assert got.is_searchable is True
    assert got.inference is not None
    assert got.inference.confidence_score == 0.75
    assert got.inference.user_has_verified_accuracy is False
    assert got.source is not None and got.source.type == ["User"]
    assert got.sources is not None and len(got.sources) == 1
    assert got.sources[0].source_id == "46a57efc-33f8-4eec-a512-b90039ad6187"
    assert got.sources[0].is_default_source is True
    assert got.sources[0].properties == ["tag"]
    assert_aware(got.created_date_time)
    assert_aware(got.last_modified_date_time)
    for identity in (got.created_by, got.last_modified_by):
        assert identity is not None and identity.user is not None
        assert identity.user.id == oid
        assert identity.user.display_name == name
        assert identity.application is None


def test_sdk_drives_every_operation_on_me(graphlang_server: GraphlangServer, make_sdk_client: MakeSdk) -> None:
    upn, name = "sdk-me@contoso.com", "Sdk Me"
    sdk = make_sdk_client(graphlang_server.token(upn, name=name))

    async def scenario() -> None:
        me = sdk.client.me()
        oid = (await me.profile.languages.get()).value
        assert oid == []
        created = await me.profile.languages.post(full_language())
        assert created is not None and created.id is not None
        caller = created.created_by.user.id
        assert_every_field_parsed(created, caller, name)
        assert created.created_date_time == created.last_modified_date_time

        listed = await me.profile.languages.get()
        assert [item.id for item in listed.value] == [created.id]
        assert_every_field_parsed(listed.value[0], caller, name)

        item = me.profile.languages.by_language_proficiency_id(created.id)
        fetched = await item.get()
        assert_every_field_parsed(fetched, caller, name)

        selected = await item.get(RequestConfiguration(query_parameters=ItemQuery(select=["tag", "spoken"])))
        assert selected.tag == "nb-NO"
        assert selected.spoken is LanguageProficiencyLevel.NativeOrBilingual
        assert selected.written is None and selected.display_name is None and selected.created_by is None

        selected_list = await me.profile.languages.get(
            RequestConfiguration(query_parameters=ListQuery(select=["displayName"])))
        assert [(x.display_name, x.tag) for x in selected_list.value] == [("Norwegian Bokmål", None)]

        patched = await item.patch(LanguageProficiency(written=LanguageProficiencyLevel.LimitedWorking,
                                                       allowed_audiences=AllowedAudiences.Organization))
        assert patched is not None
        assert patched.written is LanguageProficiencyLevel.LimitedWorking
        assert patched.allowed_audiences == [AllowedAudiences.Organization]
        assert patched.spoken is LanguageProficiencyLevel.NativeOrBilingual  # merged, not replaced
        assert patched.created_date_time == created.created_date_time
        assert patched.last_modified_date_time > created.last_modified_date_time
        assert (await item.get()).written is LanguageProficiencyLevel.LimitedWorking

        assert await item.delete() is None
        error = await expect_odata_error(item.get())
        assert error.response_status_code == 404
        assert error.error is not None and error.error.code == "itemNotFound"
        assert created.id in (error.error.message or "")
        assert error.error.inner_error is not None
        assert error.error.inner_error.request_id
        assert isinstance(error.error.inner_error.date, datetime)
        assert (await me.profile.languages.get()).value == []

    asyncio.run(scenario())


def test_sdk_drives_every_operation_on_users_by_upn(graphlang_server: GraphlangServer,
                                                    make_sdk_client: MakeSdk) -> None:
    graphlang_server.token("sdk-target/ops@contoso.com")  # adds the user (with a '/', sent as %2F)
    admin = make_sdk_client(graphlang_server.token("sdk-admin@contoso.com", scopes="User.ReadWrite.All",
                                                   name="Sdk Admin"))

    async def scenario() -> None:
        languages = admin.client.users.by_user_id("SDK-Target/Ops@Contoso.com").profile.languages
        created = await languages.post(LanguageProficiency(tag="fr-fr",
                                                           spoken=LanguageProficiencyLevel.Elementary))
        assert created is not None
        assert created.tag == "fr-FR"
        assert created.display_name == "French"
        assert created.allowed_audiences == [AllowedAudiences.Organization]
        assert created.created_by.user.display_name == "Sdk Admin"

        assert [x.id for x in (await languages.get()).value] == [created.id]
        item = languages.by_language_proficiency_id(created.id)
        assert (await item.get()).spoken is LanguageProficiencyLevel.Elementary
        selected = await item.get(RequestConfiguration(query_parameters=ItemQuery(select=["displayName"])))
        assert (selected.display_name, selected.tag) == ("French", None)

        patched = await item.patch(LanguageProficiency(reading=LanguageProficiencyLevel.Conversational))
        assert patched.reading is LanguageProficiencyLevel.Conversational
        assert patched.spoken is LanguageProficiencyLevel.Elementary

        await item.delete()
        error = await expect_odata_error(item.delete())
        assert (error.response_status_code, error.error.code) == (404, "itemNotFound")

        missing = admin.client.users.by_user_id("nobody@contoso.com").profile.languages
        error = await expect_odata_error(missing.get())
        assert (error.response_status_code, error.error.code) == (404, "Request_ResourceNotFound")

    asyncio.run(scenario())


def test_sdk_users_path_naming_the_caller_reaches_the_same_languages_as_me(
        graphlang_server: GraphlangServer, make_sdk_client: MakeSdk) -> None:
    sdk = make_sdk_client(graphlang_server.token("sdk-self@contoso.com"))

    async def scenario() -> None:
        created = await sdk.client.users.by_user_id("sdk-self@contoso.com").profile.languages.post(
            LanguageProficiency(tag="de-DE", written=LanguageProficiencyLevel.NativeOrBilingual))
        mine = await sdk.client.me().profile.languages.get()
        assert [x.id for x in mine.value] == [created.id]
        by_id = sdk.client.users.by_user_id(created.created_by.user.id).profile.languages
        assert [x.tag for x in (await by_id.get()).value] == ["de-DE"]

    asyncio.run(scenario())


def test_sdk_reports_a_rejected_write_as_odata_error_400(graphlang_server: GraphlangServer,
                                                         make_sdk_client: MakeSdk) -> None:
    sdk = make_sdk_client(graphlang_server.token("sdk-bad@contoso.com"))

    async def scenario() -> None:
        error = await expect_odata_error(sdk.client.me().profile.languages.post(LanguageProficiency(tag="not a tag")))
        assert (error.response_status_code, error.error.code) == (400, "BadRequest")
        assert "tag" in (error.error.message or "")
        assert (await sdk.client.me().profile.languages.get()).value == []

    asyncio.run(scenario())

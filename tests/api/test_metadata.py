"""``GET /beta/$metadata`` (CSDL) and the service document ``GET /beta/``, checked against the spec."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from starlette.testclient import TestClient

from graphlang.model.properties import PROPERTIES
from tests.api.support import assert_graph_error

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
EDMX = "{http://docs.oasis-open.org/odata/ns/edmx}"

# Graph's beta CSDL (spec §2 and §3), written out here so that the property table is checked against
# the spec and not against itself.
LANGUAGE_PROPERTIES = {
    "id": "Edm.String",
    "allowedAudiences": "graph.allowedAudiences",
    "createdBy": "graph.identitySet",
    "createdDateTime": "Edm.DateTimeOffset",
    "inference": "graph.inferenceData",
    "isSearchable": "Edm.Boolean",
    "lastModifiedBy": "graph.identitySet",
    "lastModifiedDateTime": "Edm.DateTimeOffset",
    "source": "graph.personDataSources",
    "sources": "Collection(graph.profileSourceAnnotation)",
    "displayName": "Edm.String",
    "proficiency": "graph.languageProficiencyLevel",
    "reading": "graph.languageProficiencyLevel",
    "spoken": "graph.languageProficiencyLevel",
    "tag": "Edm.String",
    "thumbnailUrl": "Edm.String",
    "written": "graph.languageProficiencyLevel",
}
ITEM_FACET = ["allowedAudiences", "createdBy", "createdDateTime", "inference", "isSearchable", "lastModifiedBy",
              "lastModifiedDateTime", "source", "sources"]
LANGUAGE_OWN = ["displayName", "proficiency", "reading", "spoken", "tag", "thumbnailUrl", "written"]
LEVELS = {"elementary": "0", "conversational": "1", "limitedWorking": "2", "professionalWorking": "3",
          "fullProfessional": "4", "nativeOrBilingual": "5", "unknownFutureValue": "6"}
AUDIENCES = {"me": "0", "family": "1", "contacts": "2", "groupMembers": "4", "organization": "8",
             "federatedOrganizations": "16", "everyone": "32", "unknownFutureValue": "64"}
COMPLEX_TYPES = {
    "identity": {"displayName": "Edm.String", "id": "Edm.String"},
    "identitySet": {"application": "graph.identity", "device": "graph.identity", "user": "graph.identity"},
    "inferenceData": {"confidenceScore": "Edm.Double", "userHasVerifiedAccuracy": "Edm.Boolean"},
    "personDataSources": {"type": "Collection(Edm.String)"},
    "profileSourceAnnotation": {"isDefaultSource": "Edm.Boolean", "properties": "Collection(Edm.String)",
                                "sourceId": "Edm.String"},
}


@pytest.fixture
def schema(client: TestClient) -> ElementTree.Element:
    response = client.get("/beta/$metadata")
    assert response.status_code == 200, response.text
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{EDMX}Edmx" and root.get("Version") == "4.0"
    found = root.find(f"{EDMX}DataServices/{EDM}Schema")
    assert found is not None
    return found


def named(schema: ElementTree.Element, kind: str, name: str) -> ElementTree.Element:
    matches = [e for e in schema.findall(f"{EDM}{kind}") if e.get("Name") == name]
    assert len(matches) == 1, f"{kind} {name} declared {len(matches)} times"
    return matches[0]


def properties(element: ElementTree.Element) -> dict[str, str]:
    return {p.get("Name", ""): p.get("Type", "") for p in element.findall(f"{EDM}Property")}


def test_metadata_is_csdl_xml_served_without_a_token(client: TestClient) -> None:
    response = client.get("/beta/$metadata")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/xml"
    assert response.headers["odata-version"] == "4.0"
    assert response.headers["request-id"]
    ElementTree.fromstring(response.content)


def test_metadata_path_is_matched_case_insensitively(client: TestClient) -> None:
    assert client.get("/Beta/$Metadata").content == client.get("/beta/$metadata").content


def test_metadata_schema_is_microsoft_graph_with_alias_graph(schema: ElementTree.Element) -> None:
    assert (schema.get("Namespace"), schema.get("Alias")) == ("microsoft.graph", "graph")


def test_language_proficiency_and_its_bases_declare_exactly_graphs_properties(schema: ElementTree.Element) -> None:
    entity = named(schema, "EntityType", "entity")
    item_facet = named(schema, "EntityType", "itemFacet")
    language = named(schema, "EntityType", "languageProficiency")
    assert [k.get("Name") for k in entity.findall(f"{EDM}Key/{EDM}PropertyRef")] == ["id"]
    assert properties(entity) == {"id": "Edm.String"}
    assert entity.find(f"{EDM}Property").get("Nullable") == "false"  # type: ignore[union-attr]
    assert (item_facet.get("BaseType"), item_facet.get("Abstract")) == ("graph.entity", "true")
    assert language.get("BaseType") == "graph.itemFacet"
    assert list(properties(item_facet)) == ITEM_FACET
    assert list(properties(language)) == LANGUAGE_OWN
    declared = {**properties(entity), **properties(item_facet), **properties(language)}
    assert declared == LANGUAGE_PROPERTIES
    nullable_false = [p.get("Name") for e in (item_facet, language) for p in e.findall(f"{EDM}Property")
                      if p.get("Nullable") is not None]
    assert nullable_false == []


def test_metadata_properties_are_the_property_table(schema: ElementTree.Element) -> None:
    declared: dict[str, str] = {}
    for name in ("entity", "itemFacet", "languageProficiency"):
        declared.update(properties(named(schema, "EntityType", name)))
    assert declared == {p.name: p.kind.value for p in PROPERTIES}


@pytest.mark.parametrize(("name", "members", "flags"), [
    ("languageProficiencyLevel", LEVELS, None),
    ("allowedAudiences", AUDIENCES, "true"),
])
def test_enum_members_and_values_match_graph(schema: ElementTree.Element, name: str, members: dict[str, str],
                                             flags: str | None) -> None:
    enum = named(schema, "EnumType", name)
    assert enum.get("IsFlags") == flags
    assert [(m.get("Name"), m.get("Value")) for m in enum.findall(f"{EDM}Member")] == list(members.items())


@pytest.mark.parametrize("name", sorted(COMPLEX_TYPES))
def test_complex_types_match_graph(schema: ElementTree.Element, name: str) -> None:
    complex_type = named(schema, "ComplexType", name)
    assert properties(complex_type) == COMPLEX_TYPES[name]
    assert complex_type.get("OpenType") == ("true" if name in ("identity", "identitySet") else None)


def test_user_contains_profile_which_contains_languages(schema: ElementTree.Element) -> None:
    def navigation(entity: str) -> list[tuple[str | None, str | None, str | None]]:
        element = named(schema, "EntityType", entity)
        return [(n.get("Name"), n.get("Type"), n.get("ContainsTarget"))
                for n in element.findall(f"{EDM}NavigationProperty")]

    assert navigation("user") == [("profile", "graph.profile", "true")]
    assert navigation("profile") == [("languages", "Collection(graph.languageProficiency)", "true")]
    assert named(schema, "EntityType", "user").get("BaseType") == "graph.directoryObject"
    assert named(schema, "EntityType", "directoryObject").get("BaseType") == "graph.entity"
    assert named(schema, "EntityType", "profile").get("BaseType") == "graph.entity"


def test_every_type_reference_resolves_within_the_schema(schema: ElementTree.Element) -> None:
    declared = {f"graph.{e.get('Name')}" for kind in ("EntityType", "ComplexType", "EnumType")
                for e in schema.findall(f"{EDM}{kind}")}
    references = [e.get("Type") or e.get("BaseType") or e.get("EntityType") for e in schema.iter()
                  if e.get("Type") or e.get("BaseType") or e.get("EntityType")]
    for reference in references:
        assert reference is not None
        target = reference.removeprefix("Collection(").removesuffix(")")
        assert target.startswith("Edm.") or target in declared, reference


def test_entity_container_has_the_users_set_and_the_me_singleton(schema: ElementTree.Element) -> None:
    container = schema.find(f"{EDM}EntityContainer")
    assert container is not None
    members = [(e.tag.removeprefix(EDM), e.get("Name"), e.get("EntityType") or e.get("Type")) for e in container]
    assert members == [("EntitySet", "users", "graph.user"), ("Singleton", "me", "graph.user")]


@pytest.mark.parametrize("path", ["/beta/", "/beta", "/BETA/"])
def test_service_document_lists_users_and_me_without_a_token(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "@odata.context": "http://testserver/beta/$metadata",
        "value": [{"name": "users", "kind": "EntitySet", "url": "users"},
                  {"name": "me", "kind": "Singleton", "url": "me"}],
    }


def test_service_document_context_follows_the_request_host(client: TestClient) -> None:
    response = client.get("/beta/", headers={"Host": "graph.example.test:8443"})
    assert response.json()["@odata.context"] == "http://graph.example.test:8443/beta/$metadata"


def test_writing_to_the_metadata_document_is_405(client: TestClient) -> None:
    response = client.post("/beta/$metadata", content=b"<x/>")
    assert_graph_error(response, 405, "MethodNotAllowed", "POST")
    assert response.headers["allow"] == "GET"

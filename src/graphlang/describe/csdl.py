"""``$metadata``: the CSDL XML (OData v4 EDMX) of the model graphlang serves."""

from __future__ import annotations

from xml.etree import ElementTree

from graphlang.describe import edm

EDMX_NS = "http://docs.oasis-open.org/odata/ns/edmx"
EDM_NS = "http://docs.oasis-open.org/odata/ns/edm"


def _property(parent: ElementTree.Element, prop: edm.EdmProperty) -> None:
    attributes = {"Name": prop.name, "Type": prop.type}
    if not prop.nullable:
        attributes["Nullable"] = "false"
    ElementTree.SubElement(parent, "Property", attributes)


def _structured(schema: ElementTree.Element, tag: str, declared: edm.StructuredType) -> None:
    attributes = {"Name": declared.name}
    if declared.base:
        attributes["BaseType"] = declared.base
    if declared.abstract:
        attributes["Abstract"] = "true"
    if declared.open:
        attributes["OpenType"] = "true"
    element = ElementTree.SubElement(schema, tag, attributes)
    if declared.key:
        key = ElementTree.SubElement(element, "Key")
        for name in declared.key:
            ElementTree.SubElement(key, "PropertyRef", {"Name": name})
    for prop in declared.properties:
        _property(element, prop)
    for navigation in declared.navigation:
        ElementTree.SubElement(element, "NavigationProperty",
                               {"Name": navigation.name, "Type": navigation.type, "ContainsTarget": "true"})


def _enum(schema: ElementTree.Element, declared: edm.EnumType) -> None:
    attributes = {"Name": declared.name}
    if declared.flags:
        attributes["IsFlags"] = "true"
    element = ElementTree.SubElement(schema, "EnumType", attributes)
    for name, value in declared.members.items():
        ElementTree.SubElement(element, "Member", {"Name": name, "Value": str(value)})


def build_csdl() -> bytes:
    """The whole document, as UTF-8 bytes."""
    root = ElementTree.Element("edmx:Edmx", {"Version": "4.0", "xmlns:edmx": EDMX_NS})
    services = ElementTree.SubElement(root, "edmx:DataServices")
    schema = ElementTree.SubElement(services, "Schema",
                                    {"Namespace": edm.NAMESPACE, "Alias": edm.ALIAS, "xmlns": EDM_NS})
    for enum_type in edm.ENUM_TYPES:
        _enum(schema, enum_type)
    for entity_type in edm.ENTITY_TYPES:
        _structured(schema, "EntityType", entity_type)
    for complex_type in edm.COMPLEX_TYPES:
        _structured(schema, "ComplexType", complex_type)
    container = ElementTree.SubElement(schema, "EntityContainer", {"Name": edm.CONTAINER})
    for member in edm.CONTAINER_MEMBERS:
        type_attribute = "EntityType" if member.kind == "EntitySet" else "Type"
        ElementTree.SubElement(container, member.kind, {"Name": member.name, type_attribute: member.type})
    ElementTree.indent(root, space="  ")
    document: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def service_document(context: str) -> dict[str, object]:
    """The OData JSON service document, whose ``@odata.context`` is the request's ``$metadata`` URL."""
    return {
        "@odata.context": context,
        "value": [{"name": m.name, "kind": m.kind, "url": m.name} for m in edm.CONTAINER_MEMBERS],
    }

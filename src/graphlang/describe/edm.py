"""The slice of Graph's beta entity data model that graphlang serves, derived from the model package.

``$metadata``, the service document and the OpenAPI schemas are all rendered from these values, and
these values come from the property table and the enums, so none of the descriptions can drift from
what the service validates and returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from graphlang.model import enums
from graphlang.model.properties import INFERENCE_MEMBERS, PROPERTIES, SOURCE_ANNOTATION_MEMBERS, Kind

NAMESPACE = "microsoft.graph"
ALIAS = "graph"
CONTAINER = "GraphService"
KEY = "id"


@dataclass(frozen=True, slots=True)
class EdmProperty:
    name: str
    type: str  # a CSDL type reference: Edm.String, graph.identitySet, Collection(...)
    nullable: bool = True


@dataclass(frozen=True, slots=True)
class Navigation:
    name: str
    type: str


@dataclass(frozen=True, slots=True)
class StructuredType:
    name: str
    properties: tuple[EdmProperty, ...] = ()
    base: str | None = None
    abstract: bool = False
    open: bool = False
    key: tuple[str, ...] = ()
    navigation: tuple[Navigation, ...] = ()  # all containment navigations


@dataclass(frozen=True, slots=True)
class EnumType:
    name: str
    members: Mapping[str, int]
    flags: bool = False


@dataclass(frozen=True, slots=True)
class ContainerMember:
    name: str
    kind: str  # "EntitySet" or "Singleton", as the service document names them
    type: str


def _short(qualified: str) -> str:
    return qualified.rsplit(".", 1)[1]


def _declared_on(type_name: str) -> tuple[EdmProperty, ...]:
    # Graph's CSDL lists each type's own properties alphabetically.
    return tuple(
        EdmProperty(p.name, p.kind.value, nullable=p.name != KEY)
        for p in sorted(PROPERTIES, key=lambda p: p.name)
        if p.declared_on == type_name
    )


def _members(members: Mapping[str, Kind]) -> tuple[EdmProperty, ...]:
    return tuple(EdmProperty(name, kind.value) for name, kind in members.items())


ENUM_TYPES: tuple[EnumType, ...] = (
    EnumType(_short(enums.LEVEL_TYPE), enums.LEVELS),
    EnumType(_short(enums.AUDIENCES_TYPE), enums.AUDIENCES, flags=True),
)

_IDENTITY = f"{ALIAS}.identity"
COMPLEX_TYPES: tuple[StructuredType, ...] = (
    StructuredType("identity", (EdmProperty("displayName", Kind.STRING.value), EdmProperty("id", Kind.STRING.value)),
                   open=True),
    StructuredType("identitySet", tuple(EdmProperty(name, _IDENTITY) for name in ("application", "device", "user")),
                   open=True),
    StructuredType("inferenceData", _members(INFERENCE_MEMBERS)),
    StructuredType("personDataSources", (EdmProperty("type", Kind.STRINGS.value),)),
    StructuredType("profileSourceAnnotation", _members(SOURCE_ANNOTATION_MEMBERS)),
)

ENTITY_TYPES: tuple[StructuredType, ...] = (
    StructuredType("entity", _declared_on("entity"), abstract=True, key=(KEY,)),
    StructuredType("directoryObject", base=f"{ALIAS}.entity"),
    StructuredType("user", base=f"{ALIAS}.directoryObject",
                   navigation=(Navigation("profile", f"{ALIAS}.profile"),)),
    StructuredType("profile", base=f"{ALIAS}.entity",
                   navigation=(Navigation("languages", f"Collection({ALIAS}.languageProficiency)"),)),
    StructuredType("itemFacet", _declared_on("itemFacet"), base=f"{ALIAS}.entity", abstract=True),
    StructuredType("languageProficiency", _declared_on("languageProficiency"), base=f"{ALIAS}.itemFacet"),
)

CONTAINER_MEMBERS: tuple[ContainerMember, ...] = (
    ContainerMember("users", "EntitySet", f"{ALIAS}.user"),
    ContainerMember("me", "Singleton", f"{ALIAS}.user"),
)

ENUMS_BY_NAME: Mapping[str, EnumType] = {e.name: e for e in ENUM_TYPES}
COMPLEX_BY_NAME: Mapping[str, StructuredType] = {c.name: c for c in COMPLEX_TYPES}
ENTITIES_BY_NAME: Mapping[str, StructuredType] = {e.name: e for e in ENTITY_TYPES}


def all_properties(entity: str) -> tuple[EdmProperty, ...]:
    """The properties of an entity type including those it inherits, base types first."""
    declared = ENTITIES_BY_NAME[entity]
    inherited = all_properties(declared.base.split(".", 1)[1]) if declared.base else ()
    return (*inherited, *declared.properties)

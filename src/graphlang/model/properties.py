"""The property table of ``microsoft.graph.languageProficiency`` (beta CSDL, itemFacet included).

One table feeds validation, serialization, ``$select``, the query compiler's whitelist, ``$metadata``
and the OpenAPI description, so a property is declared exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

ENTITY_TYPE = "microsoft.graph.languageProficiency"


class Kind(Enum):
    ID = "Edm.String"
    STRING = "Edm.String"
    BOOLEAN = "Edm.Boolean"
    DOUBLE = "Edm.Double"
    DATETIME = "Edm.DateTimeOffset"
    LEVEL = "graph.languageProficiencyLevel"
    AUDIENCES = "graph.allowedAudiences"
    IDENTITY_SET = "graph.identitySet"
    INFERENCE = "graph.inferenceData"
    SOURCE = "graph.personDataSources"
    SOURCES = "Collection(graph.profileSourceAnnotation)"
    STRINGS = "Collection(Edm.String)"


@dataclass(frozen=True, slots=True)
class Property:
    name: str
    kind: Kind
    column: str | None  # None for complex properties spread over several columns
    settable: bool
    sortable: bool
    declared_on: str = "languageProficiency"  # the CSDL type that declares it: entity, itemFacet or this


PROPERTIES: tuple[Property, ...] = (
    Property("id", Kind.ID, "id", settable=False, sortable=True, declared_on="entity"),
    Property("allowedAudiences", Kind.AUDIENCES, "allowed_audiences",
             settable=True, sortable=True, declared_on="itemFacet"),
    Property("inference", Kind.INFERENCE, None, settable=True, sortable=False, declared_on="itemFacet"),
    Property("createdDateTime", Kind.DATETIME, "created_ticks", settable=False, sortable=True, declared_on="itemFacet"),
    Property("createdBy", Kind.IDENTITY_SET, "created_by", settable=False, sortable=False, declared_on="itemFacet"),
    Property("lastModifiedDateTime", Kind.DATETIME, "modified_ticks",
             settable=False, sortable=True, declared_on="itemFacet"),
    Property("lastModifiedBy", Kind.IDENTITY_SET, "last_modified_by",
             settable=False, sortable=False, declared_on="itemFacet"),
    Property("source", Kind.SOURCE, "source", settable=True, sortable=False, declared_on="itemFacet"),
    Property("sources", Kind.SOURCES, "sources", settable=True, sortable=False, declared_on="itemFacet"),
    Property("isSearchable", Kind.BOOLEAN, "is_searchable", settable=True, sortable=True, declared_on="itemFacet"),
    Property("displayName", Kind.STRING, "display_name", settable=True, sortable=True),
    Property("tag", Kind.STRING, "tag", settable=True, sortable=True),
    Property("spoken", Kind.LEVEL, "spoken", settable=True, sortable=True),
    Property("written", Kind.LEVEL, "written", settable=True, sortable=True),
    Property("reading", Kind.LEVEL, "reading", settable=True, sortable=True),
    Property("proficiency", Kind.LEVEL, "proficiency", settable=True, sortable=True),
    Property("thumbnailUrl", Kind.STRING, "thumbnail_url", settable=True, sortable=True),
)

BY_NAME = MappingProxyType({p.name: p for p in PROPERTIES})
BY_FOLDED_NAME = MappingProxyType({p.name.lower(): p for p in PROPERTIES})

# Scalar paths usable in $filter and $orderby, including the two members of inferenceData.
SCALAR_PATHS: MappingProxyType[str, tuple[str, Kind]] = MappingProxyType({
    **{p.name: (p.column, p.kind) for p in PROPERTIES if p.sortable and p.column is not None},
    "inference/confidenceScore": ("confidence_score", Kind.DOUBLE),
    "inference/userHasVerifiedAccuracy": ("user_has_verified_accuracy", Kind.BOOLEAN),
})

INFERENCE_MEMBERS = MappingProxyType({
    "confidenceScore": Kind.DOUBLE,
    "userHasVerifiedAccuracy": Kind.BOOLEAN,
})
SOURCE_ANNOTATION_MEMBERS = MappingProxyType({
    "isDefaultSource": Kind.BOOLEAN,
    "properties": Kind.STRINGS,
    "sourceId": Kind.STRING,
})

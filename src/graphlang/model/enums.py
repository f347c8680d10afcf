"""Graph's two enums on this resource, exactly as the beta CSDL declares them.

Levels are stored as their CSDL member values so that ``gt``/``lt`` and ``$orderby`` follow the
declared order (elementary < ... < nativeOrBilingual). ``allowedAudiences`` is a flags enum and is
stored as its bit mask; ``me`` is the zero value.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

LEVEL_TYPE = "microsoft.graph.languageProficiencyLevel"
AUDIENCES_TYPE = "microsoft.graph.allowedAudiences"

LEVELS: Mapping[str, int] = MappingProxyType({
    "elementary": 0,
    "conversational": 1,
    "limitedWorking": 2,
    "professionalWorking": 3,
    "fullProfessional": 4,
    "nativeOrBilingual": 5,
    "unknownFutureValue": 6,
})
LEVEL_NAMES: Mapping[int, str] = MappingProxyType({v: k for k, v in LEVELS.items()})
_LEVELS_FOLDED = {k.lower(): v for k, v in LEVELS.items()}

AUDIENCES: Mapping[str, int] = MappingProxyType({
    "me": 0,
    "family": 1,
    "contacts": 2,
    "groupMembers": 4,
    "organization": 8,
    "federatedOrganizations": 16,
    "everyone": 32,
    "unknownFutureValue": 64,
})
_AUDIENCES_FOLDED = {k.lower(): v for k, v in AUDIENCES.items()}
DEFAULT_AUDIENCES = AUDIENCES["organization"]


def parse_level(text: str) -> int | None:
    """The member value for a level name (any case), or None when it is not a member."""
    return _LEVELS_FOLDED.get(text.strip().lower())


def parse_audiences(text: str) -> int | None:
    """The bit mask for one member or a comma-separated combination, or None if any part is unknown."""
    mask = 0
    for part in text.split(","):
        value = _AUDIENCES_FOLDED.get(part.strip().lower())
        if value is None:
            return None
        mask |= value
    return mask


@cache
def format_audiences(mask: int) -> str:
    """The canonical flags string: members in declaration order, ``me`` only when no bit is set."""
    if mask == 0:
        return "me"
    return ",".join(name for name, bit in AUDIENCES.items() if bit and mask & bit)

"""BCP-47 language tags, through langcodes."""

from __future__ import annotations

from functools import lru_cache

import langcodes

# BCP-47 sets no maximum; this is the width of the store's tag column, far above any real tag.
MAX_TAG_LENGTH = 100


@lru_cache(maxsize=4096)
def canonical_tag(text: str) -> str | None:
    """The canonical form of a valid BCP-47 tag (``en-us`` -> ``en-US``), or None if it is invalid."""
    candidate = text.strip()
    if not candidate or not langcodes.tag_is_valid(candidate):
        return None
    try:
        return str(langcodes.standardize_tag(candidate))
    except (ValueError, LookupError):
        return None


@lru_cache(maxsize=4096)
def display_name_for(tag: str) -> str:
    """The English name of the tag's language and script, without the region (``nb-NO`` -> Norwegian Bokmål)."""
    language = langcodes.Language.get(tag)
    return str(langcodes.Language.make(language=language.language, script=language.script).display_name())

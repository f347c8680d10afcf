"""BCP-47 language tags, through langcodes."""

from __future__ import annotations

from functools import lru_cache

import langcodes

from graphlang.model.english_names import english_names

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
    """The English name of the tag's language and script, without the region (``nb-NO`` -> Norwegian
    Bokmål), as langcodes' ``display_name`` gives it."""
    parsed = langcodes.Language.get(tag)
    named = langcodes.Language.make(language=parsed.language, script=parsed.script).simplify_script()
    names = english_names()
    language = names.languages.get(named.language or "und")
    script = names.scripts.get(named.script) if named.script else ""
    if language is None or script is None:
        # A code with no English name of its own (private use, say): langcodes makes one up, from the
        # name data the table spares the process in every other case.
        return str(named.display_name())
    return f"{language} ({script})" if script else language

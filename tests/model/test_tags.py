"""BCP-47 tags: validity, canonical form, and the display name derived from a tag."""

from __future__ import annotations

import pytest

from graphlang.model.tags import canonical_tag, display_name_for


@pytest.mark.parametrize(("text", "canonical"), [
    ("en-us", "en-US"), ("EN-US", "en-US"), ("nb-NO", "nb-NO"), ("zh-hant-tw", "zh-Hant-TW"),
    ("en_US", "en-US"), (" fr ", "fr"), ("iw", "he"), ("sr-latn-rs", "sr-Latn-RS"),
])
def test_valid_tags_are_canonicalised(text: str, canonical: str) -> None:
    assert canonical_tag(text) == canonical


@pytest.mark.parametrize("text", ["", "   ", "not a tag", "123", "tag-value", "en--US", "english", "no-NB"])
def test_invalid_tags_are_rejected(text: str) -> None:
    assert canonical_tag(text) is None


@pytest.mark.parametrize(("tag", "name"), [
    ("nb-NO", "Norwegian Bokmål"), ("en-US", "English"), ("en-GB", "English"), ("de", "German"),
    ("zh-Hant-TW", "Chinese (Traditional)"), ("sr-Latn-RS", "Serbian (Latin)"),
])
def test_display_name_is_the_language_and_script_without_region(tag: str, name: str) -> None:
    assert display_name_for(tag) == name

"""The English names shipped in place of langcodes' name data: the same names, without its memory."""

from __future__ import annotations

import subprocess
import sys

import langcodes
import pytest

from graphlang.model.english_names import build, english_names
from graphlang.model.tags import display_name_for


def langcodes_display_name(tag: str) -> str:
    parsed = langcodes.Language.get(tag)
    return str(langcodes.Language.make(language=parsed.language, script=parsed.script).display_name())


def test_the_shipped_names_are_what_the_installed_langcodes_answers() -> None:
    # When langcodes' data changes, `python -m graphlang.model.english_names` writes the file again.
    shipped = english_names()
    assert build() == {"languages": shipped.languages, "scripts": shipped.scripts}


def test_every_language_is_named_as_langcodes_names_it() -> None:
    differing = {code: (display_name_for(code), langcodes_display_name(code))
                 for code in english_names().languages
                 if display_name_for(code) != langcodes_display_name(code)}
    assert differing == {}


@pytest.mark.parametrize("language", ["und", "sr", "zh", "en", "yi", "az"])
def test_every_script_is_named_as_langcodes_names_it(language: str) -> None:
    tags = [f"{language}-{script}" for script in english_names().scripts]
    differing = {tag: (display_name_for(tag), langcodes_display_name(tag))
                 for tag in tags if display_name_for(tag) != langcodes_display_name(tag)}
    assert differing == {}


def test_a_language_without_a_name_of_its_own_is_named_by_langcodes() -> None:
    assert "qaa" not in english_names().languages
    assert display_name_for("qaa") == "Unknown language [qaa]"


def test_naming_languages_leaves_the_name_data_of_langcodes_unloaded() -> None:
    script = ("import sys\n"
              "from graphlang.model.tags import canonical_tag, display_name_for\n"
              "names = [display_name_for(canonical_tag(t)) for t in ('nb-NO', 'zh-Hant-TW', 'sr-Latn', 'und')]\n"
              "assert names == ['Norwegian Bokmål', 'Chinese (Traditional)', 'Serbian (Latin)', 'Unknown language']\n"
              "print('language_data.name_data' in sys.modules)\n")
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "False"

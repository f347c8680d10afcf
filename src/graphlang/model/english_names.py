"""The English names of languages and scripts, as langcodes gives them, without langcodes' name data.

langcodes names a language in any of a few hundred languages, from one table of every name in every
language (``language_data.name_data``), which it loads whole the first time it names anything: about
35 MB more in every process that derives a display name, each server worker among them. A display
name here is always English, so the English names alone ship in ``english_names.json``, made by
langcodes itself: ``python -m graphlang.model.english_names`` writes the file again, and a test holds
it to what the installed langcodes answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import langcodes
import orjson

NAMES_FILE = "english_names.json"


@dataclass(frozen=True, slots=True)
class EnglishNames:
    languages: dict[str, str]  # language subtag -> its name (``nb`` -> Norwegian Bokmål)
    scripts: dict[str, str]  # script subtag -> its name (``Latn`` -> Latin)


@cache
def english_names() -> EnglishNames:
    table = orjson.loads(resources.files(__package__).joinpath(NAMES_FILE).read_bytes())
    return EnglishNames(table["languages"], table["scripts"])


def build() -> dict[str, dict[str, str]]:
    """What langcodes names each language and script it has names for (loading all of its names)."""
    from language_data.name_data import CODE_TO_NAMES  # type: ignore[import-untyped]

    codes = sorted(CODE_TO_NAMES)
    return {
        "languages": {code: str(langcodes.Language.make(language=code).language_name())
                      for code in codes if code.isalpha() and code.islower()},
        "scripts": {code: str(langcodes.Language.make(script=code).script_name())
                    for code in codes if len(code) == 4 and code.isalpha() and code.istitle()},
    }


def main() -> None:
    path = Path(__file__).with_name(NAMES_FILE)
    layout = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE  # a readable diff when it changes
    path.write_bytes(orjson.dumps(build(), option=layout))
    print(f"wrote {path}")  # noqa: T201 - a maintenance command's one line of output


if __name__ == "__main__":
    main()

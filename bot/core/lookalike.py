"""Look-alike domains: the skeleton of a name, so `сlothoff.io` (Cyrillic с), `cl0thoff.io` and
`clothofｆ.io` all read as `clothoff.io`.

A skeleton folds each character to the ASCII letter it is drawn like (Unicode's confusables
data, UTS #39, as shipped by the `confusable_homoglyphs` package), drops accents, and folds the
ASCII look-alikes `0`/`o`, `1`/`l`, `rn`/`m`. Two names with the same skeleton look the same.
"""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from importlib import resources


@cache
def _fold_table() -> dict[int, str]:
    """Map every non-ASCII character that looks like an ASCII letter or digit to that letter."""
    data = json.loads(
        resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    )
    table: dict[int, str] = {}
    for key, glyphs in data.items():
        if len(key) != 1:
            continue
        if key.isascii():
            if not key.isalnum():
                continue
            for glyph in glyphs:
                char = glyph["c"]
                if len(char) == 1 and not char.isascii():
                    table.setdefault(ord(char), key.lower())
        else:
            for glyph in glyphs:
                char = glyph["c"]
                if char.isascii() and char.isalnum():
                    table[ord(key)] = char.lower()
                    break
    return table


def fold(text: str) -> str:
    """Each character folded to the ASCII letter it looks like; ASCII text keeps its length."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFD", text.lower())
        stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
        text = stripped.translate(_fold_table()).lower()
    # Three replaces beat str.translate on short ASCII names (this runs for every listed domain).
    return text.replace("0", "o").replace("1", "l").replace("|", "l")


def skeleton(name: str) -> str:
    """The look-alike class of a (Unicode, lower-case) domain name."""
    return fold(name).replace("rn", "m")


def is_mixed_script(label: str) -> bool:
    """True when a label mixes Latin letters with letters of another script (a homograph sign)."""
    scripts = set()
    for char in label:
        if char.isalpha():
            name = unicodedata.name(char, "")
            scripts.add(name.split(" ", 1)[0])
    return len(scripts) > 1

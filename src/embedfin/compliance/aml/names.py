"""Names in the form a screening compares them: transliterated, folded, without titles or legal
forms, as tokens.

``normal_form("Иван Петров")`` and ``normal_form("Ivan  PETROV, Mr.")`` are the same
``("ivan", "petrov")``. Every script is transliterated to Latin letters with ``anyascii``; each
Chinese, Japanese or Korean character becomes a token of its own (``王小明`` → ``wang xiao ming``),
so a romanised spelling written as one word (``Wang Xiaoming``) is compared with its syllables
joined (``NameForm.joined``). Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from anyascii import anyascii

#: Words that say what a name is rather than whose: titles and legal forms (after folding).
NOISE = frozenset(
    {
        # titles
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "prof",
        "sir",
        "madam",
        "sheikh",
        "haji",
        # legal forms
        "ltd",
        "limited",
        "llc",
        "llp",
        "lp",
        "inc",
        "incorporated",
        "co",
        "corp",
        "corporation",
        "company",
        "plc",
        "gmbh",
        "ag",
        "sa",
        "sarl",
        "srl",
        "spa",
        "bv",
        "nv",
        "oy",
        "ab",
        "as",
        "ooo",
        "oao",
        "zao",
        "pao",
        "jsc",
        "pjsc",
        "ojsc",
        "kk",
        "pte",
        "pty",
        "bhd",
        "sdn",
    }
)
#: Chinese legal forms, removed before transliteration (longest first).
CJK_NOISE = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司")
_SPLIT = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class NameForm:
    """A name as tokens, and the two strings whole-name similarity compares.

    Attributes:
        tokens: the name's words in their order, transliterated and folded.
        joined: the tokens without spaces (spacing and syllable splits do not count).
        ordered: the tokens sorted and joined (word order does not count).
    """

    tokens: tuple[str, ...]

    @property
    def joined(self) -> str:
        return "".join(self.tokens)

    @property
    def ordered(self) -> str:
        return "".join(sorted(self.tokens))


def _is_cjk(char: str) -> bool:
    name = unicodedata.name(char, "")
    return name.startswith(("CJK UNIFIED", "CJK COMPATIBILITY", "HIRAGANA", "KATAKANA", "HANGUL"))


def transliterate(name: str) -> str:
    """Latin letters for any script; each CJK character a word of its own."""
    for form in CJK_NOISE:
        name = name.replace(form, " ")
    parts: list[str] = []
    for char in unicodedata.normalize("NFKC", name):
        if char.isascii():
            parts.append(char)
        elif _is_cjk(char):
            parts.append(f" {anyascii(char)} ")
        else:
            parts.append(anyascii(char))
    return "".join(parts)


def normal_form(name: str) -> NameForm:
    """The name's tokens: transliterated, lower-case, punctuation dropped, titles and legal
    forms removed (unless nothing else is left)."""
    words = [w for w in _SPLIT.split(transliterate(name).casefold()) if w]
    kept = [w for w in words if w not in NOISE]
    return NameForm(tuple(kept or words))

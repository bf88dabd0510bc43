"""How ids are normalised: one SQL expression for DuckDB, and the same steps in
Python for Spark (a SQL function there: Spark has no NFC normalisation).

A shop's exports write the same customer id in several ways: with zero-width
or control characters, non-breaking or ideographic spaces, full-width digits
and letters, or an accent as a combining mark. Each variant would become a
separate customer. The loader writes ids through this expression and staging
applies the same one (dbt macro `normalize_id`, kept equal to this by
tests/warehouse/test_ids.py), so an id means one thing on both sides:

1. full-width ASCII forms (U+FF01-U+FF5E) become ASCII and the ideographic
   space (U+3000) a space: the compatibility mappings of NFKC that ids carry;
2. Unicode NFC (composed accents), which DuckDB provides (it has no NFKC);
3. control, zero-width and other format characters are removed (tabs and
   line breaks too, inside the id);
4. every other Unicode space becomes a plain space, and spaces are trimmed;
5. an id that is then empty is NULL (quarantined as missing).

Ids of printable ASCII without spaces, nearly all of them, are left as they
are by one regular-expression test, which the rest would not change anyway:
the full expression costs several string passes per row.
"""

from __future__ import annotations

import re
import unicodedata

FULL_WIDTH = "".join(chr(code) for code in range(0xFF01, 0xFF5F)) + "\u3000"
ASCII = "".join(chr(code) for code in range(0x21, 0x7F)) + " "
# Removed: C0 and C1 controls, zero-width and bidi marks, line/paragraph
# separators and bidi embeddings, word joiners and invisible operators, BOM.
REMOVED = r"[\x00-\x1f\x7f-\x9f\x{200b}-\x{200f}\x{2028}-\x{202e}\x{2060}-\x{206f}\x{feff}]"
# Made plain spaces: no-break, en/em and other spaces, narrow no-break, math space.
SPACES = r"[\x{a0}\x{1680}\x{2000}-\x{200a}\x{202f}\x{205f}]"


PLAIN = r"[\x21-\x7e]+"  # printable ASCII, no space: already normal


def normalized_id_sql(expression: str) -> str:
    """SQL turning `expression` (any type) into the normalised id, NULL when empty."""
    value = f"cast({expression} as varchar)"
    ascii_quoted = ASCII.replace("'", "''")
    text = f"translate({value}, '{FULL_WIDTH}', '{ascii_quoted}')"
    text = f"regexp_replace(nfc_normalize({text}), '{REMOVED}', '', 'g')"
    text = f"nullif(trim(regexp_replace({text}, '{SPACES}', ' ', 'g')), '')"
    return f"case when regexp_full_match({value}, '{PLAIN}') then {value} else {text} end"


def _python_pattern(pattern: str) -> str:
    r"""A pattern of the SQL above in Python's syntax (\x{hhhh} is \uhhhh there)."""
    return re.sub(r"\\x\{([0-9a-f]+)\}", lambda code: f"\\u{int(code[1], 16):04x}", pattern)


_TO_ASCII = str.maketrans(FULL_WIDTH, ASCII)
_REMOVED = re.compile(_python_pattern(REMOVED))
_SPACES = re.compile(_python_pattern(SPACES))
_PLAIN = re.compile(PLAIN)


def normalize_id(value: str | None) -> str | None:
    """normalized_id_sql in Python (Spark's `churn_normalize_id`), step for step."""
    if value is None or _PLAIN.fullmatch(value):
        return value
    text = value.translate(_TO_ASCII)
    if not text.isascii():  # DuckDB's NFC of non-ASCII text ends at a NUL character
        text = unicodedata.normalize("NFC", text.split("\x00", 1)[0])
    text = _REMOVED.sub("", text)
    return _SPACES.sub(" ", text).strip(" ") or None

"""Hashtag extraction from tweet text, following the twitter-text rules.

The rules are the ones pinned down by the twitter-text conformance suite (``extract.yml``,
groups ``hashtags``, ``hashtags_from_astral`` and ``hashtags_with_indices``; Copyright
Twitter, Inc., Apache License 2.0). This is an independent implementation of those rules
using only the standard library (``re`` for URLs, ``unicodedata`` for character classes):

1. A hashtag starts with a hash sign, ``#`` or the full-width U+FF03.
2. The sign must sit on a boundary: at the start of the text, or after a character that
   could not itself be part of a hashtag and is not ``&`` (so ``&#39;`` is not a hashtag).
   An emoji variation selector (U+FE0E, U+FE0F) is a boundary although it is a mark.
3. The sign must not be followed by U+FE0F or U+20E3: ``#️⃣`` is the keycap emoji.
4. The tag is the longest run of tag characters after the sign: letters (L*), marks (M*),
   decimal digits (Nd), and a few joiners and punctuation used inside words by some
   scripts (see ``_SPECIAL_TAG_CHARS``). The run must contain at least one letter or mark,
   so ``#16`` and ``#_`` are not hashtags.
5. A run followed by another hash sign or by ``://`` is rejected (``#http://...``).
6. A hash sign inside a URL belongs to the URL (``http://example.com/#anchor``). URLs are
   found with a deliberately simple approximation of the twitter-text URL rules (see
   ``_URL_RE``); where a hashtag and a URL overlap, the one that starts first wins.

Indices are in Unicode code points (Python ``str`` indices), ``[start, end)`` from the
hash sign to the end of the tag.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = ["extract_hashtags", "extract_hashtags_with_indices", "normalize_hashtag"]

# Characters that are neither letters, marks nor digits but occur inside words, so a
# hashtag must not stop at them: underscore; ZWNJ/ZWJ (Persian, Indic and emoji
# shaping); Cyrillic paiyerok; Hebrew maqaf, geresh and gershayim; full-width tilde and
# wave dash (Japanese long vowels); kana voiced sound marks, double hyphen and middle
# dot; ditto mark; Tibetan tsheg and non-breaking tsheg; Latin middle dot (Catalan l·l).
_SPECIAL_TAG_CHARS: Final = frozenset(
    "_\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c\u309b\u309c\u30a0\u30fb\u3003\u0f0b\u0f0c\u00b7"
)

# Variation selectors 15/16 (text/emoji presentation): they are combining marks, yet
# "✌️#tag" must still work, so they count as a boundary before the hash sign.
_VARIATION_SELECTORS: Final = frozenset("\ufe0e\ufe0f")

# "#" + U+FE0F + U+20E3 is the keycap-number-sign emoji, not the start of a hashtag.
_KEYCAP_FOLLOWERS: Final = frozenset("\ufe0f\u20e3")

# A run followed by one of these is not a hashtag: "#a#b" is not two tags, and "#http://"
# is a mistyped link, not a tag.
_INVALID_AFTER_TAG: Final = ("#", "\uff03", "://")

_HASH_SIGN_RE: Final = re.compile("[#\uff03]")

# Characters a URL path/query/fragment may contain: printable ASCII plus Latin accented
# letters and Cyrillic, roughly twitter-text's path characters. Stopping at CJK and
# full-width punctuation matters: "http://example.com。#タグ" still has a hashtag.
_URL_CHARS: Final = r"[!-~\u00c0-\u024f\u0400-\u04ff]"

# An approximation of twitter-text's URL extraction, enough to know which hash signs
# belong to a URL; it neither validates TLDs nor trims trailing punctuation. Like
# twitter-text, a URL glued to an ASCII letter or digit, or to a mention/cashtag/hash sign,
# is not a URL ("#t.co/abc" is the hashtag "t"), and a URL without a scheme must not
# follow "-", "_", "." or "/".
_URL_RE: Final = re.compile(
    rf"""
    (?<![A-Za-z0-9@\uff20$\#\uff03\u202a-\u202e])
    (?:
        # With a scheme: any host (IDN included), then an optional port and path.
        https?://[^\W_][\w.-]*(?::[0-9]+)?(?:[/?\#]{_URL_CHARS}*)?
      |
        # Without a scheme: an ASCII dotted domain ending in an alphabetic TLD. Only
        # domains followed by a path or query can contain a hash sign after a boundary,
        # so only those are looked for.
        (?<![_./-])
        (?:[A-Za-z0-9][A-Za-z0-9_-]*\.)+[A-Za-z]{{2,}}(?::[0-9]+)?[/?]{_URL_CHARS}*
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)


def _is_tag_letter(char: str) -> bool:
    """Whether `char` is a letter or a mark: a tag needs at least one of these."""
    return unicodedata.category(char)[0] in "LM"


def _is_tag_char(char: str) -> bool:
    """Whether `char` can be part of a hashtag's text."""
    category = unicodedata.category(char)
    return category[0] in "LM" or category == "Nd" or char in _SPECIAL_TAG_CHARS


def _is_boundary(char: str) -> bool:
    """Whether a hash sign right after `char` can start a hashtag."""
    if char in _VARIATION_SELECTORS:
        return True
    # "&" is excluded so that HTML character references such as "&#39;" stay text.
    return char != "&" and not _is_tag_char(char)


def _candidate_hashtags(text: str) -> list[tuple[str, int, int]]:
    """Hashtags by rules 1-5, before removing those inside URLs."""
    found: list[tuple[str, int, int]] = []
    # twitter-text scans with a regex whose boundary consumes the preceding character, so
    # a character already consumed by the previous match (valid or rejected) cannot serve
    # as the boundary of the next one. Tracking where the last match ended mirrors that.
    previous_end = 0
    for sign in _HASH_SIGN_RE.finditer(text):
        start = sign.start()
        if start > 0 and (start - 1 < previous_end or not _is_boundary(text[start - 1])):
            continue
        first = start + 1
        if first < len(text) and text[first] in _KEYCAP_FOLLOWERS:
            continue
        end = first
        while end < len(text) and _is_tag_char(text[end]):
            end += 1
        tag = text[first:end]
        if not any(_is_tag_letter(char) for char in tag):
            # Not a match at all (empty or e.g. all digits): nothing is consumed.
            continue
        previous_end = end
        if text.startswith(_INVALID_AFTER_TAG, end):
            continue
        found.append((tag, start, end))
    return found


def extract_hashtags_with_indices(text: str) -> list[tuple[str, int, int]]:
    """Return the hashtags in `text`, in order, as ``(tag, start, end)``.

    `tag` excludes the hash sign; ``text[start:end]`` is the hash sign followed by the tag.
    Indices count Unicode code points.
    """
    tags = _candidate_hashtags(text)
    urls = [(match.start(), match.end()) for match in _URL_RE.finditer(text)]
    if not urls:
        return tags
    # twitter-text's overlap rule: sort all entities by start and drop any entity that
    # starts before the previous kept one ends. A "#" inside a URL is thus part of the URL.
    entities = sorted(
        [(start, end, tag) for tag, start, end in tags] + [(start, end, None) for start, end in urls],
        key=lambda entity: entity[0],
    )
    kept: list[tuple[str, int, int]] = []
    kept_end = 0
    for start, end, tag in entities:
        if start < kept_end:
            continue
        kept_end = end
        if tag is not None:
            kept.append((tag, start, end))
    return kept


def extract_hashtags(text: str) -> list[str]:
    """Return the hashtags in `text`, without the hash sign, in order of appearance."""
    return [tag for tag, _, _ in extract_hashtags_with_indices(text)]


def normalize_hashtag(tag: str) -> str:
    """Return the key under which hashtags compare equal: case-folded, NFC-normalised.

    `str.casefold` rather than `str.lower`: lower-casing is for display, case folding is
    Unicode's mapping for caseless matching, so "Straße"/"STRASSE" and "ΟΔΟΣ"/"οδοσ" share a
    key. It is locale-independent: "İ" folds to "i" + U+0307, not to Turkish dotless
    rules. Decomposing first, then folding, then composing is Unicode's canonical caseless
    match (D145), so precomposed and decomposed spellings ("é" vs "e" + U+0301) agree too.
    """
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", tag).casefold())

"""Hashtag extraction against the twitter-text conformance suite, plus normalisation."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from models.hashtags import extract_hashtags, extract_hashtags_with_indices, normalize_hashtag

CONFORMANCE = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "datasets"
    / "twitter_text_conformance"
    / "extract.yml"
)


def _cases(group: str) -> list[Any]:
    """Return the conformance cases of `group`, as pytest params identified by their description."""
    with CONFORMANCE.open(encoding="utf-8") as stream:
        suite = yaml.safe_load(stream)
    return [
        pytest.param(case["text"], case["expected"], id=case["description"]) for case in suite["tests"][group]
    ]


@pytest.mark.parametrize(("text", "expected"), _cases("hashtags"))
def test_conformance_hashtags(text: str, expected: list[str]) -> None:
    """Each `hashtags` conformance case yields exactly the expected tags, in order."""
    assert extract_hashtags(text) == expected


@pytest.mark.parametrize(("text", "expected"), _cases("hashtags_from_astral"))
def test_conformance_hashtags_from_astral(text: str, expected: list[str]) -> None:
    """Letters, marks and digits outside the BMP count as tag characters."""
    assert extract_hashtags(text) == expected


@pytest.mark.parametrize(("text", "expected"), _cases("hashtags_with_indices"))
def test_conformance_hashtags_with_indices(text: str, expected: list[dict[str, Any]]) -> None:
    """Each `hashtags_with_indices` case yields the expected tags with code-point indices."""
    want = [(entry["hashtag"], *entry["indices"]) for entry in expected]
    assert extract_hashtags_with_indices(text) == want


def test_hash_in_url_fragment_is_not_a_hashtag() -> None:
    """A hash sign inside a URL belongs to the URL, but tags around the URL still count."""
    text = "#before http://example.com/page#anchor example.org/#x, #after"
    assert extract_hashtags(text) == ["before", "after"]


def test_hashtag_after_url_and_cjk_punctuation() -> None:
    """A URL stops at full-width punctuation, so a hashtag right after it is extracted."""
    assert extract_hashtags("http://example.com。#タグ") == ["タグ"]


def test_keycap_and_html_entity_are_not_hashtags() -> None:
    """The keycap emoji and an HTML character reference do not start a hashtag."""
    assert extract_hashtags("#\ufe0f\u20e3 and &#39;quoted&#39;") == []


def test_normalize_lowercases_accented_letters() -> None:
    """Upper-case accented letters fold to their lower-case forms."""
    assert normalize_hashtag("ÉTÉ") == "été"


def test_normalize_composes_decomposed_input() -> None:
    """Decomposed and precomposed spellings of the same tag get the same NFC key."""
    decomposed = "E\u0301TE\u0301"
    assert normalize_hashtag(decomposed) == normalize_hashtag("été") == "été"
    assert unicodedata.is_normalized("NFC", normalize_hashtag(decomposed))


def test_normalize_german_sharp_s() -> None:
    """Case folding makes "Straße" and "STRASSE" the same tag."""
    assert normalize_hashtag("Straße") == normalize_hashtag("STRASSE") == "strasse"


def test_normalize_greek_final_sigma() -> None:
    """Final and medial sigma fold to the same key."""
    assert normalize_hashtag("ΟΔΟΣ") == normalize_hashtag("οδος") == "οδοσ"


def test_normalize_turkish_dotted_capital_i_is_locale_independent() -> None:
    """Turkish "İ" folds to "i" plus a combining dot above, without locale rules."""
    assert normalize_hashtag("İstanbul") == "i\u0307stanbul"
    assert normalize_hashtag("ISTANBUL") == "istanbul"


@given(st.text(alphabet=st.sampled_from("#\uff03&/:._- a1٣ÉéßİΣ日ー〃\u200d\ufe0f\u20e3\u0301h")))
def test_extraction_never_raises_and_spans_are_hashtags(text: str) -> None:
    """Every extracted span is a hash sign followed by the tag, and the two APIs agree."""
    spans = extract_hashtags_with_indices(text)
    for tag, start, end in spans:
        assert text[start] in "#\uff03"
        assert text[start + 1 : end] == tag
        assert tag
    assert extract_hashtags(text) == [tag for tag, _, _ in spans]
    assert [start for _, start, _ in spans] == sorted({start for _, start, _ in spans})


@given(st.text())
def test_normalize_is_idempotent_and_nfc(tag: str) -> None:
    """Normalising a key again leaves it unchanged, and keys are always NFC."""
    key = normalize_hashtag(tag)
    assert normalize_hashtag(key) == key
    assert unicodedata.is_normalized("NFC", key)

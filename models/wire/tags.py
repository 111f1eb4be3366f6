"""Hashtags for an event: from the source's entities when it has them, else from the text."""

from __future__ import annotations

from collections.abc import Iterable

from models.hashtags import extract_hashtags, normalize_hashtag


def hashtag_keys(tags: Iterable[str] | None, text: str) -> tuple[str, ...]:
    """Normalised, de-duplicated hashtags in order of first appearance.

    `tags` are the entity hashtags when the source extracted them (None when it did not), in
    which case the twitter-text rules extract them from `text`.
    """
    raw = extract_hashtags(text) if tags is None else [tag.lstrip("#\uff03") for tag in tags]
    return tuple(dict.fromkeys(key for key in map(normalize_hashtag, raw) if key))

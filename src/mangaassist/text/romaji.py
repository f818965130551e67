"""Hepburn romanization of Japanese text for records that do not state their own romaji."""

from __future__ import annotations

from functools import cache
from typing import Any

__all__ = ["romanize"]


@cache
def _kakasi() -> Any:
    import pykakasi  # imported lazily: its dictionaries take a moment to load

    return pykakasi.kakasi()  # type: ignore[no-untyped-call]


def romanize(text: str) -> str:
    """Hepburn romaji of ``text`` (kanji readings are pykakasi's best guess)."""
    parts = (item["hepburn"] for item in _kakasi().convert(text))
    return " ".join(p for p in parts if p.strip())

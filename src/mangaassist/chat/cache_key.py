"""Response-cache keys, and which messages may share a cached answer."""

from __future__ import annotations

import hashlib

from mangaassist.chat.signals import has_signal

__all__ = ["answer_cache_key", "is_shareable"]


def is_shareable(folded: str) -> bool:
    """False for messages whose meaning depends on the conversation ("その2巻", "他には？").

    Their answers are never shared across sessions, so they are not cached at all.
    """
    return not (has_signal(folded, "context") or has_signal(folded, "others"))


def answer_cache_key(folded: str, language: str, preference: str, catalog_version: int) -> str:
    """Key from the folded message, answer language, model preference and catalog version."""
    digest = hashlib.sha256(folded.encode()).hexdigest()[:32]
    return f"chat:v1:{catalog_version}:{language}:{preference}:{digest}"

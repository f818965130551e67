"""MangaAssist: backend and chat page of an AI shop assistant for a Japanese manga store."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"

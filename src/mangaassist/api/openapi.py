"""The OpenAPI document as committed in ``openapi.json``: generated, stable, diff-friendly."""

from __future__ import annotations

import json

from mangaassist.api.app import create_app
from mangaassist.settings import Settings

__all__ = ["render_openapi"]


def render_openapi() -> str:
    """The OpenAPI JSON of the app, with sorted keys and a trailing newline."""
    app = create_app(Settings(store_url="sqlite:///:memory:"))
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"

"""The committed openapi.json is the contract partners generate SDKs from: it must not drift."""

from __future__ import annotations

import json
from pathlib import Path

from mangaassist.api.openapi import render_openapi

COMMITTED = Path(__file__).parents[2] / "openapi.json"


def test_committed_openapi_matches_the_code() -> None:
    generated = render_openapi()
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""
    assert committed == generated, (
        "openapi.json is out of date with the API models. Regenerate it with "
        "`make openapi` (or `mangaassist openapi`) and commit the result."
    )


def test_every_operation_documents_its_schema_and_the_error_envelope() -> None:
    spec = json.loads(render_openapi())
    paths = spec["paths"]
    assert {"/healthz", "/readyz", "/metrics", "/v1/search", "/v1/catalog/{mangaId}"} <= set(paths)
    search = paths["/v1/search"]["post"]
    assert search["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "SearchRequest"
    )
    schemas = spec["components"]["schemas"]
    assert schemas["SearchRequest"]["additionalProperties"] is False  # unknown keys rejected
    for status in ("400", "413", "422"):
        assert search["responses"][status]["content"]["application/json"]["schema"][
            "$ref"
        ].endswith("ErrorResponse")
    assert "HTTPValidationError" not in schemas  # FastAPI's default 422 shape is not ours
    assert set(schemas["Product"]["properties"]) >= {
        "id",
        "titleJa",
        "priceJpy",
        "inStock",
        "rating",
    }

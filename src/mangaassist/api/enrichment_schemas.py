"""A product with what models wrote about it (``GET /v1/catalog/{mangaId}``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from mangaassist.api.schemas import ApiModel, Product
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.domain.enrichment import SeriesEnrichment

__all__ = ["ProductDetail", "ProductEnrichment"]


class ProductEnrichment(ApiModel):
    """One enrichment of a product (see docs/enrichment.md for the shape of ``data``)."""

    data: dict[str, Any] | None = Field(
        description="The model's JSON answer; null when it was not JSON (see rawText)."
    )
    raw_text: str | None = Field(
        description="The model's answer as written, when it was not JSON; else null."
    )
    model: str = Field(description="Model that wrote it (`offline`: from the catalog record).")
    updated_at: datetime

    @classmethod
    def of(cls, enrichment: SeriesEnrichment) -> ProductEnrichment:
        """The API view of a stored enrichment."""
        return cls(
            data=enrichment.data,
            raw_text=enrichment.raw_text if enrichment.data is None else None,
            model=enrichment.model_id,
            updated_at=enrichment.updated_at,
        )


class ProductDetail(Product):
    """A product and its enrichment by type (``synopsis``, ``tags``, ``recommendations``)."""

    enrichment: dict[str, ProductEnrichment] = Field(
        default_factory=dict, description="Empty until `mangaassist catalog enrich` ran for it."
    )

    @classmethod
    def with_enrichment(
        cls, record: SeriesRecord, enrichments: list[SeriesEnrichment]
    ) -> ProductDetail:
        """The product of ``record`` with its stored enrichments."""
        product = Product.of(record)
        return cls(
            **product.model_dump(),
            enrichment={e.enrichment_type: ProductEnrichment.of(e) for e in enrichments},
        )

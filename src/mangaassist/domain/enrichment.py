"""A product's enrichment: what a model wrote about one series, by enrichment type, as stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["EnrichmentDone", "SeriesEnrichment"]


@dataclass(frozen=True, slots=True)
class SeriesEnrichment:
    """One enrichment of one series: the parsed JSON (None when the model answered something
    else, kept in ``raw_text``), who wrote it at what cost, and the job that stored it."""

    series_id: str
    enrichment_type: str
    data: dict[str, Any] | None
    raw_text: str
    model_id: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    #: The job (queue message) that stored it; how ``catalog enrich`` knows its jobs finished.
    job_id: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class EnrichmentDone:
    """A finished enrichment job: which series, whether its answer was JSON, and when."""

    job_id: str
    series_id: str
    parsed: bool
    updated_at: datetime

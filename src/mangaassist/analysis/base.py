"""Catalog analysis by a model: what batch analysis and catalog enrichment jobs ask of it.

An ``Analyzer`` takes one series and one analysis type, asks the model port for a JSON answer
grounded in that series' catalog record (and the catalog around it), and returns the parsed
JSON, the raw text (kept when the answer is not JSON), usage and cost. Both job kinds use it:
``batch_analysis`` (POST /v1/manga/batch) and ``catalog_enrich`` (``mangaassist catalog enrich``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = [
    "ANALYSIS_TYPES",
    "ENRICHMENT_TYPES",
    "AnalysisResult",
    "AnalysisType",
    "Analyzer",
    "UnknownSeriesError",
]

#: Analysis types of the batch API (the design documents' ``batch_analysis`` schema).
BatchAnalysisType = Literal[
    "genre_classification", "content_summary", "similar_series", "reading_level", "full_enrichment"
]
#: Enrichment types of ``mangaassist catalog enrich``.
EnrichmentType = Literal["synopsis", "tags", "recommendations"]
AnalysisType = BatchAnalysisType | EnrichmentType

ANALYSIS_TYPES: tuple[str, ...] = (
    "genre_classification",
    "content_summary",
    "similar_series",
    "reading_level",
    "full_enrichment",
)
ENRICHMENT_TYPES: tuple[str, ...] = ("synopsis", "tags", "recommendations")


class UnknownSeriesError(LookupError):
    """The series is not in the catalog (a job fails permanently on it)."""


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    """One series analysed: ``data`` is the parsed JSON answer, None when it was not JSON."""

    series_id: str
    analysis_type: str
    data: dict[str, Any] | None
    raw_text: str
    model_id: str
    input_tokens: int
    output_tokens: int
    cost_usd: float

    @property
    def parsed(self) -> bool:
        """True when the model answered with valid JSON."""
        return self.data is not None


class Analyzer(Protocol):
    """Analyses one series with the model port."""

    async def analyze(
        self, series_id: str, analysis_type: str, *, additional_context: str | None = None
    ) -> AnalysisResult:
        """Raises ``UnknownSeriesError`` for a series not in the catalog, ``ModelError`` when
        the model cannot answer (a job retries that)."""
        ...

"""The analyzer: one series, one analysis type, one model call, a JSON answer true to the catalog.

It grounds the request in the series record (and, for similar series and recommendations, in
candidates the chat's recommendation logic picks from the catalog), asks the model port, reads
the JSON object out of the answer, keeps only catalog series in its lists, and prices the call.
"""

from __future__ import annotations

from collections.abc import Mapping

import structlog

from mangaassist.analysis.answers import SERIES_LISTS, ground_series_lists, listed_ids, parse_answer
from mangaassist.analysis.base import (
    ANALYSIS_TYPES,
    ENRICHMENT_TYPES,
    AnalysisResult,
    UnknownSeriesError,
)
from mangaassist.analysis.prompts import build_request
from mangaassist.analysis.task import AnalysisTask
from mangaassist.catalog.service import CatalogService
from mangaassist.chat.recommend import recommend
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.domain.cost import Price, cost_usd
from mangaassist.llm.base import ChatModel

__all__ = ["CANDIDATES", "ModelAnalyzer"]

log = structlog.get_logger("mangaassist.analysis")

#: Catalog series offered to the model for similar series and recommendations: twice the five
#: it picks, so it can choose, few enough to keep the prompt short.
CANDIDATES = 10


class ModelAnalyzer:
    """The ``Analyzer`` on the model port and the catalog service."""

    def __init__(
        self,
        catalog: CatalogService,
        model: ChatModel,
        prices: Mapping[str, Price],
        *,
        candidates: int = CANDIDATES,
    ) -> None:
        self._catalog = catalog
        self._model = model
        self._prices = prices
        self._candidates = candidates

    @property
    def model_id(self) -> str:
        """The model that answers."""
        return self._model.model_id

    async def analyze(
        self, series_id: str, analysis_type: str, *, additional_context: str | None = None
    ) -> AnalysisResult:
        """Raises ``UnknownSeriesError`` for a series not in the catalog, ``ModelError`` when
        the model cannot answer, ``ValueError`` for an unknown analysis type."""
        if analysis_type not in ANALYSIS_TYPES and analysis_type not in ENRICHMENT_TYPES:
            raise ValueError(f"unknown analysis type {analysis_type!r}")
        record = await self._catalog.get(series_id)
        if record is None:
            raise UnknownSeriesError(f"series {series_id} is not in the catalog")
        candidates = await self._candidates_for(analysis_type, record)
        task = AnalysisTask(analysis_type, record, candidates)
        completion = await self._model.complete(build_request(task, additional_context))
        data = parse_answer(completion.text)
        if data is not None and analysis_type in SERIES_LISTS:
            known = await self._catalog.get_many(listed_ids(data, analysis_type))
            data = ground_series_lists(data, analysis_type, series_id, known)
        usage = completion.usage
        log.info(
            "series_analyzed", series_id=series_id, analysis_type=analysis_type,
            model=completion.model_id, parsed=data is not None,
        )  # fmt: skip
        return AnalysisResult(
            series_id=series_id,
            analysis_type=analysis_type,
            data=data,
            raw_text=completion.text,
            model_id=completion.model_id,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=cost_usd(
                completion.model_id, usage.input_tokens, usage.output_tokens, self._prices
            ),
        )

    async def _candidates_for(
        self, analysis_type: str, record: SeriesRecord
    ) -> tuple[SeriesRecord, ...]:
        if analysis_type not in SERIES_LISTS:
            return ()
        index = await self._catalog.index()
        return tuple(recommend(index.records, similar_to=record, limit=self._candidates))

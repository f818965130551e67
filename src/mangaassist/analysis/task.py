"""What the model is asked to analyse: one series, one analysis type, the catalog around it.

A ``ModelRequest`` carries it in ``task``: real models get it rendered into the prompt
(``analysis.prompts``), the offline responder answers from it directly, so its JSON stays
true to the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass

from mangaassist.domain.catalog import SeriesRecord

__all__ = ["AnalysisTask"]


@dataclass(frozen=True, slots=True)
class AnalysisTask:
    """One series to analyse; ``candidates`` are the catalog series it may be compared with."""

    analysis_type: str
    series: SeriesRecord
    candidates: tuple[SeriesRecord, ...] = ()

"""What an answer cost, from per-model prices per million input and output tokens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Price", "cost_usd"]


@dataclass(frozen=True, slots=True)
class Price:
    """US dollars per million input tokens and per million output tokens."""

    input_per_million: float
    output_per_million: float


def cost_usd(
    model_id: str, input_tokens: int, output_tokens: int, prices: Mapping[str, Price]
) -> float:
    """Dollars for one call; a model missing from ``prices`` (the offline responder) is free."""
    price = prices.get(model_id)
    if price is None:
        return 0.0
    total = (
        input_tokens * price.input_per_million + output_tokens * price.output_per_million
    ) / 1_000_000
    return round(total, 8)

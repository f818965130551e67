"""What an answer costs in dollars, from the design documents' per-million-token prices."""

from __future__ import annotations

import pytest

from mangaassist.domain.cost import Price, cost_usd
from mangaassist.llm.offline import OFFLINE_MODEL_ID

SONNET = "anthropic.claude-3-sonnet-20240229-v1:0"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
PRICES = {
    SONNET: Price(input_per_million=3.0, output_per_million=15.0),
    HAIKU: Price(input_per_million=0.25, output_per_million=1.25),
}


def test_sonnet_thousand_in_five_hundred_out() -> None:
    # 1000 * $3/M + 500 * $15/M = $0.003 + $0.0075
    assert cost_usd(SONNET, 1000, 500, PRICES) == pytest.approx(0.0105)


def test_haiku_thousand_in_five_hundred_out() -> None:
    # 1000 * $0.25/M + 500 * $1.25/M = $0.00025 + $0.000625
    assert cost_usd(HAIKU, 1000, 500, PRICES) == pytest.approx(0.000875)


def test_a_million_tokens_each_way_costs_the_list_prices() -> None:
    assert cost_usd(SONNET, 1_000_000, 0, PRICES) == pytest.approx(3.0)
    assert cost_usd(SONNET, 0, 1_000_000, PRICES) == pytest.approx(15.0)
    assert cost_usd(HAIKU, 1_000_000, 1_000_000, PRICES) == pytest.approx(1.5)


def test_haiku_is_twelve_times_cheaper_than_sonnet() -> None:
    sonnet = cost_usd(SONNET, 2400, 380, PRICES)
    haiku = cost_usd(HAIKU, 2400, 380, PRICES)

    assert sonnet == pytest.approx(12 * haiku)


def test_output_tokens_cost_more_than_input_tokens() -> None:
    assert cost_usd(SONNET, 0, 100, PRICES) == pytest.approx(5 * cost_usd(SONNET, 100, 0, PRICES))


def test_no_tokens_cost_nothing() -> None:
    assert cost_usd(SONNET, 0, 0, PRICES) == 0.0


def test_the_offline_responder_is_free() -> None:
    assert cost_usd(OFFLINE_MODEL_ID, 1000, 500, PRICES) == 0.0


def test_a_model_without_a_price_is_free() -> None:
    assert cost_usd("some.unpriced-model", 50_000, 50_000, PRICES) == 0.0
    assert cost_usd(SONNET, 1000, 500, {}) == 0.0


def test_a_single_token_is_not_rounded_away() -> None:
    # $0.25 per million: one token is $0.00000025, which must survive rounding.
    assert cost_usd(HAIKU, 1, 0, PRICES) == pytest.approx(0.00000025)
    assert cost_usd(HAIKU, 1, 0, PRICES) > 0.0

"""Routing: which model answers, and the cost guard that stops runaway prompts."""

from __future__ import annotations

import pytest

from mangaassist.domain.routing import (
    ModelPreference,
    ModelTier,
    Route,
    TokenBudgetExceeded,
    route_model,
)
from mangaassist.llm.offline import OFFLINE_MODEL_ID

#: Model ids and input-token guards from the design documents.
SONNET = "anthropic.claude-3-sonnet-20240229-v1:0"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET_GUARD = 8000
HAIKU_GUARD = 16000

TIERS = {ModelTier.FAST: HAIKU, ModelTier.QUALITY: SONNET}
GUARDS = {SONNET: SONNET_GUARD, HAIKU: HAIKU_GUARD}


def route(
    preference: ModelPreference = ModelPreference.AUTO,
    *,
    intent: str = "stock_price",
    message_tokens: int = 20,
    history_tokens: int = 0,
    tiers: dict[ModelTier, str] | None = None,
    guards: dict[str, int] | None = None,
) -> Route:
    return route_model(
        preference,
        intent=intent,
        message_tokens=message_tokens,
        history_tokens=history_tokens,
        tier_models=TIERS if tiers is None else tiers,
        guards=GUARDS if guards is None else guards,
    )


def test_fast_preference_uses_haiku_even_for_a_recommendation() -> None:
    assert route(ModelPreference.FAST, intent="recommend") == Route(ModelTier.FAST, HAIKU)


def test_quality_preference_uses_sonnet_even_for_a_stock_question() -> None:
    assert route(ModelPreference.QUALITY, intent="stock_price") == Route(ModelTier.QUALITY, SONNET)


@pytest.mark.parametrize(
    "intent",
    ["stock_price", "title_info", "author_works", "shipping", "greeting", "thanks", "unknown"],
)
def test_auto_sends_short_lookups_to_the_fast_model(intent: str) -> None:
    chosen = route(intent=intent, message_tokens=20, history_tokens=300)

    assert chosen == Route(ModelTier.FAST, HAIKU, downgraded=False)


def test_auto_sends_recommendations_to_the_quality_model() -> None:
    assert route(intent="recommend", message_tokens=10) == Route(ModelTier.QUALITY, SONNET)


@pytest.mark.parametrize(("tokens", "tier"), [(59, ModelTier.FAST), (60, ModelTier.QUALITY)])
def test_auto_sends_long_messages_to_the_quality_model(tokens: int, tier: ModelTier) -> None:
    assert route(intent="stock_price", message_tokens=tokens).tier == tier


@pytest.mark.parametrize(("tokens", "tier"), [(1999, ModelTier.FAST), (2000, ModelTier.QUALITY)])
def test_auto_sends_long_conversations_to_the_quality_model(tokens: int, tier: ModelTier) -> None:
    assert route(intent="title_info", message_tokens=10, history_tokens=tokens).tier == tier


def test_quality_within_its_guard_is_not_downgraded() -> None:
    # Message and history together are what the guard counts: 100 + 7900 = 8000.
    chosen = route(ModelPreference.QUALITY, message_tokens=100, history_tokens=7900)

    assert chosen == Route(ModelTier.QUALITY, SONNET, downgraded=False)


def test_quality_over_its_guard_is_downgraded_to_the_fast_model() -> None:
    chosen = route(ModelPreference.QUALITY, message_tokens=100, history_tokens=7901)

    assert chosen == Route(ModelTier.FAST, HAIKU, downgraded=True)


def test_auto_quality_over_its_guard_is_downgraded_too() -> None:
    chosen = route(intent="recommend", message_tokens=500, history_tokens=12_000)

    assert chosen == Route(ModelTier.FAST, HAIKU, downgraded=True)


def test_downgrade_holds_up_to_the_fast_guard() -> None:
    chosen = route(ModelPreference.QUALITY, message_tokens=1000, history_tokens=15_000)

    assert chosen == Route(ModelTier.FAST, HAIKU, downgraded=True)


def test_quality_prompt_over_both_guards_is_refused_with_the_fast_limit() -> None:
    with pytest.raises(TokenBudgetExceeded) as caught:
        route(ModelPreference.QUALITY, message_tokens=1000, history_tokens=15_001)

    assert caught.value.tokens == 16_001
    assert caught.value.limit == HAIKU_GUARD
    assert "16001" in str(caught.value)
    assert "16000" in str(caught.value)


def test_fast_prompt_over_its_guard_is_refused() -> None:
    with pytest.raises(TokenBudgetExceeded) as caught:
        route(ModelPreference.FAST, message_tokens=16_001, history_tokens=0)

    assert (caught.value.tokens, caught.value.limit) == (16_001, HAIKU_GUARD)


def test_token_budget_exceeded_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="exceed"):
        route(ModelPreference.FAST, message_tokens=20_000)


def test_models_without_a_guard_accept_any_size() -> None:
    tiers = {ModelTier.FAST: OFFLINE_MODEL_ID, ModelTier.QUALITY: OFFLINE_MODEL_ID}

    chosen = route(ModelPreference.QUALITY, message_tokens=1_000_000, tiers=tiers, guards=GUARDS)

    assert chosen == Route(ModelTier.QUALITY, OFFLINE_MODEL_ID, downgraded=False)


def test_unguarded_fast_model_takes_what_the_quality_guard_refuses() -> None:
    tiers = {ModelTier.FAST: OFFLINE_MODEL_ID, ModelTier.QUALITY: SONNET}

    chosen = route(ModelPreference.QUALITY, message_tokens=50_000, tiers=tiers)

    assert chosen == Route(ModelTier.FAST, OFFLINE_MODEL_ID, downgraded=True)


def test_no_guards_at_all_never_downgrades() -> None:
    chosen = route(ModelPreference.QUALITY, message_tokens=100_000, guards={})

    assert chosen == Route(ModelTier.QUALITY, SONNET, downgraded=False)

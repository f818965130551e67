"""Model routing: which tier answers, and the cost guard that keeps prompts affordable.

The design documents route short, simple questions to the fast model (Claude 3 Haiku) and
complex ones to the quality model (Sonnet), and cap the estimated input tokens per model
(Sonnet 8,000, Haiku 16,000) so that one runaway prompt cannot cost dollars.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["ModelPreference", "ModelTier", "Route", "TokenBudgetExceeded", "route_model"]


class ModelTier(StrEnum):
    """A class of model; settings map each tier to a chain of concrete models."""

    FAST = "fast"  #: quick lookups: stock, price, greetings (Haiku in the design documents)
    QUALITY = "quality"  #: comparisons and recommendations with reasons (Sonnet)


class ModelPreference(StrEnum):
    """What the client asked for."""

    AUTO = "auto"
    FAST = "fast"
    QUALITY = "quality"


#: Intents that need reasoning over several products; the rest are lookups or small talk.
QUALITY_INTENTS = frozenset({"recommend"})
#: Messages at least this long (estimated tokens) go to the quality tier under ``auto``.
LONG_MESSAGE_TOKENS = 60
#: Conversations with this much history go to the quality tier under ``auto``.
LONG_HISTORY_TOKENS = 2000


class TokenBudgetExceeded(ValueError):  # noqa: N818 - named for the API's error code
    """Even the cheapest permitted model's guard is below the prompt's estimated size."""

    def __init__(self, tokens: int, limit: int) -> None:
        super().__init__(f"estimated {tokens} input tokens exceed the guard of {limit}")
        self.tokens = tokens
        self.limit = limit


@dataclass(frozen=True, slots=True)
class Route:
    """The decision: tier, concrete model id, and whether the guard moved it down."""

    tier: ModelTier
    model_id: str
    downgraded: bool = False


def _auto_tier(intent: str, message_tokens: int, history_tokens: int) -> ModelTier:
    if (
        intent in QUALITY_INTENTS
        or message_tokens >= LONG_MESSAGE_TOKENS
        or history_tokens >= LONG_HISTORY_TOKENS
    ):
        return ModelTier.QUALITY
    return ModelTier.FAST


def route_model(
    preference: ModelPreference,
    *,
    intent: str,
    message_tokens: int,
    history_tokens: int,
    tier_models: Mapping[ModelTier, str],
    guards: Mapping[str, int],
) -> Route:
    """Pick the tier and model; move down to the fast tier when the quality model's guard is
    exceeded, and raise ``TokenBudgetExceeded`` when the fast model's guard is too.

    ``guards`` maps model ids to their maximum estimated input tokens; a model without a guard
    (the offline responder) accepts any size.
    """
    if preference == ModelPreference.FAST:
        tier = ModelTier.FAST
    elif preference == ModelPreference.QUALITY:
        tier = ModelTier.QUALITY
    else:
        tier = _auto_tier(intent, message_tokens, history_tokens)
    tokens = message_tokens + history_tokens
    model_id = tier_models[tier]
    limit = guards.get(model_id)
    if limit is None or tokens <= limit:
        return Route(tier, model_id)
    if tier == ModelTier.QUALITY:
        fast_id = tier_models[ModelTier.FAST]
        fast_limit = guards.get(fast_id)
        if fast_limit is None or tokens <= fast_limit:
            return Route(ModelTier.FAST, fast_id, downgraded=True)
        limit = fast_limit
    raise TokenBudgetExceeded(tokens, limit)

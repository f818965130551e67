"""From settings to a router: providers, models, chains per tier and their breakers.

``MANGAASSIST_LLM_URL`` names the default provider; the tiers' chains (``MANGAASSIST_MODEL_CHAINS``,
or the default derived from the fast and quality model ids) list model ids of that provider,
``offline``, or ``URL#MODEL`` for a model of another provider. Each provider is opened once and
shared by its models (one Bedrock client, one HTTP connection pool per OpenAI-compatible server).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from mangaassist.domain.routing import ModelTier
from mangaassist.llm.base import ChatModel
from mangaassist.llm.breaker import BreakerBoard, BreakerPolicy
from mangaassist.llm.offline import OFFLINE_MODEL_ID, OfflineModel
from mangaassist.llm.router import ModelRouter, RouterPolicy
from mangaassist.observability.model_metrics import ModelMetrics
from mangaassist.settings import Settings

__all__ = ["ModelSetup", "build_models", "default_chains"]

_OFFLINE = "offline"


class Provider(Protocol):
    """What the setup needs of a provider: opening it at start-up and closing it."""

    async def open(self) -> None: ...
    async def close(self) -> None: ...


@dataclass
class ModelSetup:
    """The router, each tier's chain (model keys) and the providers to close at shutdown."""

    router: ModelRouter
    chains: dict[ModelTier, tuple[str, ...]]
    providers: list[Provider] = field(default_factory=list)

    async def open(self) -> None:
        """Open every provider's client, so the first answer does not pay for it."""
        for provider in self.providers:
            await provider.open()

    async def close(self) -> None:
        """Close every provider."""
        for provider in self.providers:
            await provider.close()


def default_chains(settings: Settings) -> dict[ModelTier, list[str]]:
    """The chains when ``MANGAASSIST_MODEL_CHAINS`` is empty."""
    if settings.llm_url == _OFFLINE:
        return {ModelTier.FAST: [_OFFLINE], ModelTier.QUALITY: [_OFFLINE]}
    fast, quality = settings.fast_model_id, settings.quality_model_id
    return {
        ModelTier.FAST: [fast, _OFFLINE],
        ModelTier.QUALITY: list(dict.fromkeys([quality, fast, _OFFLINE])),
    }


def _configured_chains(settings: Settings) -> dict[ModelTier, list[str]]:
    if not settings.model_chains:
        return default_chains(settings)
    unknown = set(settings.model_chains) - {tier.value for tier in ModelTier}
    missing = {tier.value for tier in ModelTier} - set(settings.model_chains)
    if unknown or missing:
        raise ValueError(
            "MANGAASSIST_MODEL_CHAINS needs exactly the tiers fast and quality "
            f"(unknown: {sorted(unknown)}, missing: {sorted(missing)})"
        )
    chains = {ModelTier(tier): list(entries) for tier, entries in settings.model_chains.items()}
    for tier, entries in chains.items():
        if not entries:
            raise ValueError(f"MANGAASSIST_MODEL_CHAINS: the {tier} chain is empty")
    return chains


def _split(entry: str, default_url: str) -> tuple[str, str, str]:
    """(provider URL, model id, key) of a chain entry; the key names it in metrics."""
    if entry == _OFFLINE:
        return _OFFLINE, OFFLINE_MODEL_ID, _OFFLINE
    if "#" in entry:
        url, _, model_id = entry.rpartition("#")
        parts = urlsplit(url)
        where = f"{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"
        return url, model_id, f"{parts.scheme}://{where}#{model_id}"  # no credentials in keys
    if default_url == _OFFLINE:
        raise ValueError(
            f"model {entry!r} in a chain needs a provider: set MANGAASSIST_LLM_URL or write "
            "it as URL#MODEL"
        )
    return default_url, entry, entry


def _open_provider(url: str, api_key: str) -> Provider:
    scheme = urlsplit(url).scheme
    if scheme in ("bedrock", "bedrock+http", "bedrock+https"):
        from mangaassist.llm.bedrock import BedrockProvider

        return BedrockProvider.from_url(url)
    if scheme in ("openai+http", "openai+https"):
        from mangaassist.llm.openai_compat import OpenAIProvider

        return OpenAIProvider.from_url(url, api_key)
    raise ValueError(
        f"unsupported model provider URL scheme {scheme!r}: use offline, bedrock://REGION, "
        "bedrock+http://HOST:PORT or openai+http(s)://HOST:PORT/v1"
    )


def _model(model_id: str, provider: Provider, estimate: Callable[[str], int]) -> ChatModel:
    from mangaassist.llm.bedrock import BedrockProvider
    from mangaassist.llm.openai_compat import OpenAIProvider

    if isinstance(provider, BedrockProvider):
        return provider.model(model_id)
    assert isinstance(provider, OpenAIProvider)
    return provider.model(model_id, estimate)


def build_models(
    settings: Settings,
    offline: OfflineModel,
    estimate_tokens: Callable[[str], int],
    metrics: ModelMetrics | None = None,
) -> ModelSetup:
    """Providers, models and the router for ``settings``; ``ValueError`` for a bad setting."""
    api_key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else ""
    providers: dict[str, Provider] = {}
    models: dict[str, ChatModel] = {_OFFLINE: offline}
    chains: dict[ModelTier, tuple[str, ...]] = {}
    for tier, entries in _configured_chains(settings).items():
        keys: list[str] = []
        for entry in entries:
            url, model_id, key = _split(entry, settings.llm_url)
            if key not in models:
                if url not in providers:
                    providers[url] = _open_provider(url, api_key)
                models[key] = _model(model_id, providers[url], estimate_tokens)
            keys.append(key)
        chains[tier] = tuple(keys)
    breakers = BreakerBoard(
        BreakerPolicy(
            settings.breaker_failures,
            settings.breaker_window_s,
            settings.breaker_open_s,
            settings.breaker_failure_ratio,
        ),
        on_change=metrics.breaker_changed if metrics else None,
    )
    router = ModelRouter(
        models,
        offline,
        breakers=breakers,
        estimate_tokens=estimate_tokens,
        policy=RouterPolicy(
            first_token_s=settings.model_first_token_s,
            attempts_per_model=settings.model_attempts,
            backoff_base_s=settings.model_backoff_s,
        ),
        metrics=metrics,
    )
    return ModelSetup(router, chains, list(providers.values()))

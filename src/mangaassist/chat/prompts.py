"""System prompts for real models (the offline responder reads the plan directly).

A prompt is the store assistant's instructions in the customer's language (keigo for Japanese),
the store's policy facts when the question is about them, and the retrieved catalog series, one
compact line each. Retrieval context is capped per genre, as the design documents' prompt-flow
runbook does after its isekai incident (a 2,000-title genre swelled prompts to 4,200 tokens and
timed flows out): series are added in the planner's ranking order until the genre's cap, and
only the series that made it into the prompt may be named in the answer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from mangaassist.chat.plan import Intent, Plan
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.domain.policy import StorePolicy

__all__ = ["RAG_TOKEN_LIMITS", "Prompt", "build_prompt", "context_cap"]

#: Most estimated tokens of catalog context per genre (the prompt-flow runbook's table).
RAG_TOKEN_LIMITS: dict[str, int] = {
    "isekai": 1500,
    "shonen": 2000,
    "shoujo": 2000,
    "seinen": 2000,
    "josei": 1800,
    "horror": 1500,
    "sports": 1500,
    "default": 1800,
}
#: Synopsis characters kept per series line.
SYNOPSIS_CHARS = {"ja": 90, "en": 180}

_INSTRUCTIONS = {
    "ja": (
        "あなたは日本の漫画専門店のアシスタント「MangaAssist」です。お客様には丁寧な敬語（です・ます調）で、"
        "簡潔に（5文以内）お答えください。\n"
        "ルール:\n"
        "- 作品は下の「商品」に載っているものだけをご紹介ください。"
        "載っていない作品名は出さないでください。\n"
        "- 作品名は必ず『』で囲んでください。\n"
        "- 在庫・価格・巻数は記載のとおりにお伝えください。推測で答えないでください。\n"
        "- ご希望に合う商品がない場合は、その旨をお伝えし、好みのジャンルなどをお尋ねください。\n"
        "- 店舗の方針（送料・返品・お支払い）は「店舗情報」のとおりにお伝えください。"
    ),
    "en": (
        "You are MangaAssist, the assistant of a Japanese manga store. Answer politely and "
        "briefly (at most 5 sentences) in English.\n"
        "Rules:\n"
        "- Only name series listed under Products. Never name a series that is not listed.\n"
        "- Write every series title in 『』, e.g. 『Frieren: Beyond Journey's End』.\n"
        "- State stock, prices and volume counts exactly as listed; never guess.\n"
        "- If nothing listed fits, say so and ask what the customer likes.\n"
        "- State store policies (shipping, returns, payment) exactly as under Store."
    ),
}
_POLICY_INTENTS = frozenset({Intent.SHIPPING, Intent.RETURNS, Intent.PAYMENT})


@dataclass(frozen=True, slots=True)
class Prompt:
    """The system prompt, and the series it shows the model (the only ones it may name)."""

    system: str
    products: tuple[SeriesRecord, ...]
    context_tokens: int
    cap: int


def context_cap(plan: Plan) -> int:
    """The catalog-context cap of ``plan``: its asked-for genre, else its series' main genre."""
    if plan.genre is not None:
        return RAG_TOKEN_LIMITS.get(plan.genre.value, RAG_TOKEN_LIMITS["default"])
    genres = Counter(record.genre.value for record in plan.products)
    if genres:
        genre = genres.most_common(1)[0][0]
        return RAG_TOKEN_LIMITS.get(genre, RAG_TOKEN_LIMITS["default"])
    return RAG_TOKEN_LIMITS["default"]


def _product_line(record: SeriesRecord, language: str) -> str:
    limit = SYNOPSIS_CHARS.get(language, SYNOPSIS_CHARS["en"])
    if language == "ja":
        synopsis = record.synopsis_ja[:limit]
        return (
            f"- [{record.id}] 『{record.title_ja}』({record.title}) 著:{record.author_ja} | "
            f"{record.genre.value} {' '.join(record.tags)} | 全{record.volumes}巻"
            f"({record.status.value}) | ¥{record.price_jpy} | 在庫{record.stock} | {synopsis}"
        )
    synopsis = record.synopsis_en[:limit]
    return (
        f"- [{record.id}] 『{record.title}』({record.title_ja}) by {record.author} | "
        f"{record.genre.value} {' '.join(record.tags)} | {record.volumes} vols "
        f"({record.status.value}) | ¥{record.price_jpy} | stock {record.stock} | {synopsis}"
    )


def _policy_lines(policy: StorePolicy, language: str) -> list[str]:
    payments = (
        "、".join(policy.payment_labels("ja"))
        if language == "ja"
        else ", ".join(policy.payment_labels("en"))
    )
    if language == "ja":
        return [
            "店舗情報:",
            f"- 送料{policy.shipping_fee_jpy}円（{policy.free_shipping_from_jpy}円以上で無料）、"
            f"お届けは{policy.delivery_days}営業日",
            f"- 返品はお届けから{policy.return_days}日以内",
            f"- お支払い: {payments}",
        ]
    return [
        "Store:",
        f"- Shipping ¥{policy.shipping_fee_jpy} (free from ¥{policy.free_shipping_from_jpy}), "
        f"delivery in {policy.delivery_days} business days",
        f"- Returns within {policy.return_days} days of delivery",
        f"- Payment: {payments}",
    ]


def build_prompt(plan: Plan, policy: StorePolicy, estimate_tokens: Callable[[str], int]) -> Prompt:
    """The prompt for ``plan``; series past the genre's context cap are left out."""
    language = plan.language if plan.language in _INSTRUCTIONS else "en"
    lines = [_INSTRUCTIONS[language], f"intent: {plan.intent.value}"]
    if plan.intent in _POLICY_INTENTS:
        lines.extend(_policy_lines(policy, language))
    cap = context_cap(plan)
    used = 0
    shown: list[SeriesRecord] = []
    product_lines: list[str] = []
    for record in plan.products:
        line = _product_line(record, language)
        cost = estimate_tokens(line)
        if used + cost > cap:
            break
        used += cost
        shown.append(record)
        product_lines.append(line)
    if plan.focus is not None and plan.focus not in shown and not plan.products:
        product_lines.append(_product_line(plan.focus, language))
        shown.append(plan.focus)
    if product_lines:
        lines.append("商品:" if language == "ja" else "Products:")
        lines.extend(product_lines)
    elif plan.intent not in _POLICY_INTENTS:
        lines.append("商品: （該当なし）" if language == "ja" else "Products: (none match)")
    return Prompt("\n".join(lines), tuple(shown), used, cap)

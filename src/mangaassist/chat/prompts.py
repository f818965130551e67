"""System prompts for real models (the offline responder reads the plan directly)."""

from __future__ import annotations

from mangaassist.chat.plan import Plan

__all__ = ["system_prompt"]

_BASE = {
    "ja": (
        "あなたは日本の漫画専門店のアシスタント「MangaAssist」です。丁寧な敬語で、簡潔に答えて"
        "ください。以下の商品情報に載っている作品だけを挙げ、在庫と価格は記載どおりに伝えてください。"
    ),
    "en": (
        "You are MangaAssist, the assistant of a Japanese manga store. Answer briefly and "
        "politely in English. Only name series listed below, and state stock and prices exactly "
        "as listed."
    ),
}


def system_prompt(plan: Plan) -> str:
    """Instructions plus the grounding facts of the plan."""
    lines = [_BASE.get(plan.language, _BASE["en"]), f"intent: {plan.intent.value}"]
    for record in plan.products:
        lines.append(
            f"- {record.id} | {record.title_ja} / {record.title} | {record.author_ja} | "
            f"{record.genre} | {record.volumes} vols ({record.status}) | ¥{record.price_jpy} | "
            f"stock {record.stock}"
        )
    return "\n".join(lines)

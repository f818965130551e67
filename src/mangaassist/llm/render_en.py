"""English answers of the offline responder, from a plan."""

from __future__ import annotations

from mangaassist.chat.plan import Intent, Plan
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.domain.policy import StorePolicy

__all__ = ["render_en"]

_GENRE_EN = {
    "shonen": "shonen", "shoujo": "shoujo", "seinen": "seinen", "josei": "josei",
    "isekai": "isekai", "horror": "horror", "sports": "sports",
}  # fmt: skip
_TAG_EN = {
    "tearjerker": "something that will make you cry", "heartwarming": "something heartwarming",
    "comedy": "something funny", "scary": "something scary", "iyashikei": "something relaxing",
    "inspiring": "something inspiring", "romance": "a romance", "mystery": "a mystery",
    "cooking": "a food manga",
}  # fmt: skip


def _first_sentence(text: str) -> str:
    head, sep, _ = text.partition(". ")
    return head + ("." if sep else "")


def _line(record: SeriesRecord) -> str:
    status = "completed" if record.status == "completed" else "ongoing"
    stock = "in stock" if record.in_stock else "out of stock"
    return (
        f'- "{record.title}" ({record.title_ja}) by {record.author}: {record.volumes} volumes, '
        f"{status}, ¥{record.price_jpy:,} per volume, {stock}.\n"
        f"  {_first_sentence(record.synopsis_en)}"
    )


def _recommend(plan: Plan) -> str:
    if not plan.products:
        return (
            "I'm sorry, I couldn't find a series that matches. Shall I look in another genre "
            "or mood?"
        )
    if plan.follow_up:
        opening = "Here are a few more you might enjoy:"
    elif plan.similar_to is not None:
        opening = f'If you liked "{plan.similar_to.title}", you may also enjoy these:'
    elif plan.genre and plan.tag:
        opening = f"From our {_GENRE_EN[plan.genre]} manga, {_TAG_EN.get(plan.tag, 'a few picks')}:"
    elif plan.genre:
        opening = f"Here are our {_GENRE_EN[plan.genre]} recommendations:"
    elif plan.tag:
        opening = f"If you're looking for {_TAG_EN.get(plan.tag, 'something new')}, try these:"
    else:
        opening = "Here are a few popular series from our store:"
    lines = "\n".join(_line(r) for r in plan.products)
    return f"{opening}\n{lines}\nWant me to check stock or volumes for any of them?"


def _stock_answer(plan: Plan, record: SeriesRecord) -> str:
    title = f'"{record.title}"'
    price = f"¥{record.price_jpy:,} per volume, tax included"
    if plan.volume is not None and plan.volume > record.volumes:
        return (
            f"{title} has {record.volumes} volumes out so far, so volume {plan.volume} isn't "
            "released yet."
        )
    subject = title
    if plan.volume is not None:
        subject = f"Volume {plan.volume} of {title}"
    elif plan.latest_volume:
        subject = f"The latest volume of {title} (volume {record.volumes})"
    if record.in_stock:
        return f"{subject} is in stock ({price}) and ships right away."
    return (
        f"Sorry, {subject} is currently out of stock ({price}). "
        "We'll have it again as soon as new copies arrive."
    )


def _title_info(record: SeriesRecord) -> str:
    status = "completed" if record.status == "completed" else "still ongoing"
    stock = "in stock" if record.in_stock else "currently out of stock"
    return (
        f'"{record.title}" ({record.title_ja}) is by {record.author}. It began in '
        f"{record.release_year} and has {record.volumes} volumes so far ({status}).\n"
        f"{record.synopsis_en}\nEach volume is ¥{record.price_jpy:,} and it is {stock}."
    )


def _author_in_english(plan: Plan) -> str:
    """The asked author's Latin name: from the plan, else the same credit of a listed work."""
    if plan.author_en:
        return plan.author_en
    for record in plan.products:
        credits_ja = record.author_ja.split(" / ")
        credits_en = record.author.split(" / ")
        if plan.author in credits_ja and len(credits_en) == len(credits_ja):
            return credits_en[credits_ja.index(plan.author)]
    return plan.author


def render_en(plan: Plan, policy: StorePolicy) -> str:
    """The English answer for ``plan``."""
    intent = plan.intent
    if intent == Intent.RECOMMEND:
        return _recommend(plan)
    if intent in (Intent.STOCK_PRICE, Intent.TITLE_INFO):
        if plan.focus is None:
            return "Which series would you like me to check? Please tell me the title."
        if intent == Intent.TITLE_INFO:
            return _title_info(plan.focus)
        return "\n".join(_stock_answer(plan, r) for r in plan.products)
    if intent == Intent.AUTHOR_WORKS:
        if not plan.products:
            return "Sorry, we don't carry any series by that author right now."
        lines = "\n".join(_line(r) for r in plan.products)
        return f"From {_author_in_english(plan)}, we carry:\n{lines}"
    if intent == Intent.SHIPPING:
        return (
            f"Shipping is a flat ¥{policy.shipping_fee_jpy:,} anywhere in Japan, free on orders "
            f"of ¥{policy.free_shipping_from_jpy:,} or more. Orders usually arrive in "
            f"{policy.delivery_days} business days."
        )
    if intent == Intent.RETURNS:
        return (
            f"Unopened items can be returned within {policy.return_days} days of delivery. "
            "Damaged or misprinted books are exchanged at our cost; just contact us."
        )
    if intent == Intent.PAYMENT:
        return f"We accept {', '.join(policy.payment_labels('en'))}."
    if intent == Intent.GREETING:
        return (
            "Hello, and welcome to MangaAssist! Ask me for recommendations, stock, prices or "
            "shipping."
        )
    if intent == Intent.THANKS:
        return "You're welcome! Let me know if there's anything else I can help with."
    if intent == Intent.OUT_OF_SCOPE:
        return (
            "Sorry, I'm the manga store's assistant, so I can't help with that. I'm happy to "
            "recommend manga or check stock, prices and shipping."
        )
    return (
        'Could you tell me a bit more? For example: "any good isekai manga?" or '
        '"Is <title> vol. 3 in stock?"'
    )

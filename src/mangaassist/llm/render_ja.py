"""Japanese answers of the offline responder, in polite keigo, from a plan."""

from __future__ import annotations

from mangaassist.chat.plan import Intent, Plan
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.domain.policy import StorePolicy

__all__ = ["render_ja"]

_GENRE_JA = {
    "shonen": "少年漫画", "shoujo": "少女漫画", "seinen": "青年漫画", "josei": "女性向け漫画",
    "isekai": "異世界もの", "horror": "ホラー", "sports": "スポーツ漫画",
}  # fmt: skip
_TAG_JA = {
    "tearjerker": "泣ける作品", "heartwarming": "心温まる作品", "comedy": "笑える作品",
    "scary": "怖い作品", "iyashikei": "癒される作品", "inspiring": "熱くなれる作品",
    "romance": "恋愛もの", "mystery": "ミステリー", "cooking": "グルメ・料理もの",
}  # fmt: skip


def _first_sentence(text: str) -> str:
    head, sep, _ = text.partition("。")
    return head + sep


def _stock(record: SeriesRecord) -> str:
    return "在庫あり" if record.in_stock else "在庫切れ"


def _line(record: SeriesRecord) -> str:
    status = "完結" if record.status == "completed" else "連載中"
    return (
        f"・『{record.title_ja}』（{record.author_ja}、全{record.volumes}巻・{status}、"
        f"1冊{record.price_jpy:,}円・{_stock(record)}）\n　{_first_sentence(record.synopsis_ja)}"
    )


def _recommend(plan: Plan) -> str:
    if not plan.products:
        return (
            "申し訳ございません。ご希望に合う作品が見つかりませんでした。"
            "別のジャンルや雰囲気でお探ししましょうか？"
        )
    if plan.follow_up:
        opening = "ほかにも、こちらの作品はいかがでしょうか。"
    elif plan.similar_to is not None:
        opening = f"『{plan.similar_to.title_ja}』がお好きでしたら、こちらもおすすめです。"
    elif plan.genre and plan.tag:
        opening = (
            f"{_GENRE_JA[plan.genre]}の中から、{_TAG_JA.get(plan.tag, '作品')}をご紹介いたします。"
        )
    elif plan.genre:
        opening = f"{_GENRE_JA[plan.genre]}のおすすめをご紹介いたします。"
    elif plan.tag:
        opening = f"{_TAG_JA.get(plan.tag, 'おすすめの作品')}でしたら、こちらがおすすめです。"
    else:
        opening = "当店で人気の作品をいくつかご紹介いたします。"
    lines = "\n".join(_line(r) for r in plan.products)
    return f"{opening}\n{lines}\n気になる作品がございましたら、在庫や巻数もお調べいたします。"


def _stock_answer(plan: Plan, record: SeriesRecord) -> str:
    title = f"『{record.title_ja}』"
    price = f"1冊{record.price_jpy:,}円（税込）"
    if plan.volume is not None and plan.volume > record.volumes:
        return (
            f"{title}は現在{record.volumes}巻まで発売されており、{plan.volume}巻はまだ発売されて"
            "おりません。発売後に改めてご確認いただけますと幸いです。"
        )
    subject = title
    if plan.volume is not None:
        subject = f"{title}の{plan.volume}巻"
    elif plan.latest_volume:
        subject = f"{title}の最新刊（{record.volumes}巻）"
    if record.in_stock:
        return f"{subject}は在庫がございます（{price}）。すぐに発送いたします。"
    return (
        f"申し訳ございません。{subject}は現在在庫切れとなっております（{price}）。"
        "入荷次第ご案内いたしますので、しばらくお待ちください。"
    )


def _title_info(record: SeriesRecord) -> str:
    status = "完結済み" if record.status == "completed" else "連載中"
    stock = "在庫もございます" if record.in_stock else "現在在庫切れとなっております"
    return (
        f"『{record.title_ja}』は{record.author_ja}先生の作品で、{record.release_year}年に連載が"
        f"始まり、現在{record.volumes}巻まで発売されています（{status}）。\n"
        f"{record.synopsis_ja}\n1冊{record.price_jpy:,}円（税込）で、{stock}。"
    )


def render_ja(plan: Plan, policy: StorePolicy) -> str:
    """The Japanese answer for ``plan``."""
    intent = plan.intent
    if intent == Intent.RECOMMEND:
        return _recommend(plan)
    if intent in (Intent.STOCK_PRICE, Intent.TITLE_INFO):
        if plan.focus is None:
            return (
                "恐れ入りますが、どの作品についてお調べしましょうか？作品名を教えていただけますか。"
            )
        if intent == Intent.TITLE_INFO:
            return _title_info(plan.focus)
        return "\n".join(_stock_answer(plan, r) for r in plan.products)
    if intent == Intent.AUTHOR_WORKS:
        if not plan.products:
            return "申し訳ございません。その先生の作品は、現在当店ではお取り扱いがございません。"
        lines = "\n".join(_line(r) for r in plan.products)
        return f"{plan.author}先生の作品では、当店で次の作品をお取り扱いしております。\n{lines}"
    if intent == Intent.SHIPPING:
        return (
            f"送料は全国一律{policy.shipping_fee_jpy:,}円（税込）で、"
            f"{policy.free_shipping_from_jpy:,}円以上のご注文で無料になります。"
            f"ご注文から通常{policy.delivery_days.replace('-', '〜')}営業日でお届けいたします。"
        )
    if intent == Intent.RETURNS:
        return (
            f"商品到着後{policy.return_days}日以内の未開封品でしたら、返品を承っております。"
            "落丁・乱丁などの不良品は送料当店負担で交換いたしますので、お気軽にお問い合わせください。"
        )
    if intent == Intent.PAYMENT:
        methods = "、".join(policy.payment_labels("ja"))
        return f"お支払い方法は、{methods}をご利用いただけます。"
    if intent == Intent.GREETING:
        return (
            "いらっしゃいませ！MangaAssistでございます。おすすめの漫画や在庫、"
            "配送についてお気軽にお尋ねください。"
        )
    if intent == Intent.THANKS:
        return "どういたしまして！ほかにもお手伝いできることがございましたら、お気軽にどうぞ。"
    if intent == Intent.OUT_OF_SCOPE:
        return (
            "申し訳ございません。私は漫画ストアのアシスタントのため、そちらのご質問にはお答え"
            "いたしかねます。漫画のおすすめや在庫、配送についてでしたら喜んでお手伝いいたします。"
        )
    return (
        "恐れ入りますが、もう少し詳しく教えていただけますか？"
        "例えば「おすすめの異世界マンガは？」や「（作品名）の最新刊は在庫ありますか？」のように"
        "お尋ねください。"
    )

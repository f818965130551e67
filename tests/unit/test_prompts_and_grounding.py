"""Prompts for real models (keigo or English, per-genre context caps) and the grounding guard
that keeps answers to the series of the prompt, on the curated catalog."""

from __future__ import annotations

import pytest

from mangaassist.chat.catalog_view import CatalogView
from mangaassist.chat.grounding import GroundingGuard, GroundingRules
from mangaassist.chat.plan import Intent, Plan
from mangaassist.chat.prompts import RAG_TOKEN_LIMITS, build_prompt, context_cap
from mangaassist.domain.catalog import Genre, SeriesRecord
from mangaassist.domain.policy import StorePolicy
from mangaassist.text.token_estimate import estimate_tokens


@pytest.fixture(scope="module")
def view(curated: list[SeriesRecord]) -> CatalogView:
    return CatalogView(curated, 1)


def series(view: CatalogView, title_ja: str) -> SeriesRecord:
    return next(r for r in view.records if r.title_ja == title_ja)


def of_genre(view: CatalogView, genre: Genre) -> tuple[SeriesRecord, ...]:
    return tuple(r for r in view.records if r.genre == genre)


def test_japanese_prompt_is_keigo_and_lists_the_series_in_brackets(view: CatalogView) -> None:
    frieren = series(view, "葬送のフリーレン")
    prompt = build_prompt(
        Plan(Intent.STOCK_PRICE, "ja", (frieren,), focus=frieren), StorePolicy(), estimate_tokens
    )
    assert "丁寧な敬語" in prompt.system
    assert "『』で囲んで" in prompt.system
    assert f"[{frieren.id}] 『葬送のフリーレン』" in prompt.system
    assert f"¥{frieren.price_jpy}" in prompt.system
    assert f"在庫{frieren.stock}" in prompt.system
    assert prompt.products == (frieren,)


def test_english_prompt_states_the_rules_in_english(view: CatalogView) -> None:
    frieren = series(view, "葬送のフリーレン")
    prompt = build_prompt(Plan(Intent.TITLE_INFO, "en", (frieren,)), StorePolicy(), estimate_tokens)
    assert "Only name series listed under Products" in prompt.system
    assert f"『{frieren.title}』" in prompt.system
    assert "敬語" not in prompt.system


def test_policy_questions_get_the_store_facts(view: CatalogView) -> None:
    policy = StorePolicy(shipping_fee_jpy=600, free_shipping_from_jpy=4000, return_days=10)
    prompt = build_prompt(Plan(Intent.SHIPPING, "ja"), policy, estimate_tokens)
    assert "送料600円（4000円以上で無料）" in prompt.system
    assert "10日以内" in prompt.system
    assert "該当なし" not in prompt.system


@pytest.mark.parametrize(
    ("genre", "cap"),
    [(Genre.ISEKAI, 1500), (Genre.SHONEN, 2000), (Genre.JOSEI, 1800), (Genre.HORROR, 1500)],
)
def test_catalog_context_is_capped_by_the_genre_asked_for(
    view: CatalogView, genre: Genre, cap: int
) -> None:
    many = of_genre(view, genre) * 10  # more than any cap holds
    plan = Plan(Intent.RECOMMEND, "ja", many, genre=genre)
    prompt = build_prompt(plan, StorePolicy(), estimate_tokens)
    assert context_cap(plan) == cap == RAG_TOKEN_LIMITS[genre.value]
    assert 0 < prompt.context_tokens <= cap
    assert len(prompt.products) < len(many)
    assert prompt.products == many[: len(prompt.products)]  # in ranking order
    lines = [line for line in prompt.system.splitlines() if line.startswith("- [MNG-")]
    assert len(lines) == len(prompt.products)


def test_without_a_genre_the_series_main_genre_or_the_default_cap_applies(
    view: CatalogView,
) -> None:
    isekai = of_genre(view, Genre.ISEKAI)[:3]
    assert context_cap(Plan(Intent.RECOMMEND, "en", isekai)) == 1500
    assert context_cap(Plan(Intent.GREETING, "en")) == RAG_TOKEN_LIMITS["default"]


def _guard(
    view: CatalogView, allowed: tuple[SeriesRecord, ...], customer: str = ""
) -> GroundingGuard:
    return GroundingGuard(GroundingRules(view, allowed, customer))


def _run(guard: GroundingGuard, deltas: list[str]) -> str:
    shown = [piece for delta in deltas for piece in guard.feed(delta)]
    return "".join(shown + guard.flush())


def test_sentences_naming_other_catalog_series_are_dropped(view: CatalogView) -> None:
    guard = _guard(view, (series(view, "葬送のフリーレン"),))
    text = _run(
        guard,
        [
            "『葬送の",
            "フリーレン』は在庫が",
            "ございます。『NARUTO",
            "』も人気です。",
            "ぜひどうぞ。",
        ],
    )
    assert text == "『葬送のフリーレン』は在庫がございます。ぜひどうぞ。"
    assert len(guard.dropped) == 1


def test_bracketed_titles_outside_the_catalog_are_dropped(view: CatalogView) -> None:
    guard = _guard(view, (series(view, "葬送のフリーレン"),))
    text = _run(guard, ["『葬送のフリーレン』がおすすめです。『星屑の魔王城』もどうぞ。"])
    assert text == "『葬送のフリーレン』がおすすめです。"
    assert guard.unknown == ["星屑の魔王城"]


def test_a_title_the_customer_wrote_may_be_named(view: CatalogView) -> None:
    guard = _guard(view, (), customer="星屑の魔王城はありますか？")
    text = _run(guard, ["申し訳ございません、『星屑の魔王城』は取り扱っておりません。"])
    assert text.startswith("申し訳ございません")


def test_english_sentences_are_checked_one_by_one(view: CatalogView) -> None:
    frieren = series(view, "葬送のフリーレン")
    naruto = series(view, "NARUTO―ナルト―")
    guard = _guard(view, (frieren,))
    text = _run(
        guard, [f"We have {frieren.title}. ", f"You may also like {naruto.title}. ", "Enjoy!"]
    )
    assert text == f"We have {frieren.title}. Enjoy!"


def test_text_is_held_until_its_sentence_ends(view: CatalogView) -> None:
    guard = _guard(view, ())
    assert guard.feed("ご質問ありがとう") == []
    assert guard.feed("ございます。次に") == ["ご質問ありがとうございます。"]
    assert guard.flush() == ["次に"]


def test_emoji_and_rare_characters_pass_untouched(view: CatalogView) -> None:
    guard = _guard(view, (series(view, "葬送のフリーレン"),))
    text = "『葬送のフリーレン』👨‍👩‍👧‍👦𠮷🇯🇵ｶﾀｶﾅです！"
    assert _run(guard, [text[:5], text[5:]]) == text

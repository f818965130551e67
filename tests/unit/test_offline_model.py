"""The offline responder: catalog-grounded answers in keigo or English, streamed in safe chunks."""

from __future__ import annotations

from dataclasses import replace

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from mangaassist.chat.catalog_view import CatalogView
from mangaassist.chat.plan import Intent, Plan
from mangaassist.chat.planner import ConversationContext, plan_message
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.domain.policy import StorePolicy
from mangaassist.llm.base import ModelMessage, ModelRequest, StreamEnd, StreamEvent, TextDelta
from mangaassist.llm.offline import CHUNK_GRAPHEMES, OFFLINE_MODEL_ID, OfflineModel, chunk_text
from mangaassist.llm.render_en import render_en
from mangaassist.llm.render_ja import render_ja
from mangaassist.text.scripts import has_japanese
from mangaassist.text.token_estimate import estimate_tokens
from tests.conftest import make_record
from tests.samples import DEMON_SLAYER, FRIEREN, SLIME

POLICY = StorePolicy()
#: Frieren with a distinctive number of published volumes.
FRIEREN_14 = FRIEREN.model_copy(update={"volumes": 14})
KAGUYA = make_record(
    title="Kaguya-sama: Love Is War",
    title_ja="かぐや様は告らせたい",
    author="Aka Akasaka",
    author_ja="赤坂アカ",
    volumes=28,
    status="completed",
    genre="seinen",
    demographic="seinen",
    synopsis_en="Two geniuses refuse to confess first. Their war of wits begins.",
    synopsis_ja="天才二人が告白させようと頭脳戦を繰り広げます。生徒会の日常です。",
)
OSHI_NO_KO = make_record(
    title="Oshi no Ko",
    title_ja="【推しの子】",
    author="Aka Akasaka",
    author_ja="赤坂アカ",
    volumes=16,
    stock=0,
    synopsis_en="A doctor is reborn as the child of an idol.",
    synopsis_ja="医師がアイドルの子として転生します。",
)

POLITE = regex.compile(r"です|ます|まし|ません|ください")
CASUAL = regex.compile(r"だよ|だね|じゃん|だ。|よね|だぜ")
TITLE_JA = regex.compile(r"『([^』]+)』")


def ja(plan: Plan, policy: StorePolicy = POLICY) -> str:
    assert plan.language == "ja"
    return render_ja(plan, policy)


def en(plan: Plan, policy: StorePolicy = POLICY) -> str:
    assert plan.language == "en"
    return render_en(plan, policy)


def plan_series(plan: Plan) -> list[SeriesRecord]:
    extra = [r for r in (plan.focus, plan.similar_to) if r is not None]
    return [*plan.products, *extra]


def assert_polite(text: str) -> None:
    assert POLITE.search(text), text
    assert not CASUAL.search(text), text


def assert_only_plan_titles(text: str, plan: Plan) -> None:
    allowed = {r.title_ja for r in plan_series(plan)}
    assert set(TITLE_JA.findall(text)) <= allowed, text


def assert_english(text: str, plan: Plan) -> None:
    """English apart from the Japanese titles of the plan's series, which answers may quote."""
    rest = text
    for record in plan_series(plan):
        rest = rest.replace(record.title_ja, "")
    assert not has_japanese(rest), text


def first_sentence(text: str) -> str:
    match = regex.match(r"[^。！？!?]*[。！？!?]", text)
    assert match is not None, text
    return match.group()


# Plans covering every intent and its main branches, with the series they may name.
JA_PLANS = [
    Plan(Intent.RECOMMEND, "ja", products=(FRIEREN, SLIME)),
    Plan(Intent.RECOMMEND, "ja", products=(FRIEREN,), similar_to=DEMON_SLAYER),
    Plan(Intent.RECOMMEND, "ja", products=(SLIME,), genre=SLIME.genre, tag="comedy"),
    Plan(Intent.RECOMMEND, "ja", products=(FRIEREN,), follow_up=True),
    Plan(Intent.RECOMMEND, "ja"),
    Plan(Intent.STOCK_PRICE, "ja", products=(DEMON_SLAYER,), focus=DEMON_SLAYER, volume=2),
    Plan(Intent.STOCK_PRICE, "ja", products=(FRIEREN,), focus=FRIEREN, latest_volume=True),
    Plan(Intent.STOCK_PRICE, "ja", needs_title=True),
    Plan(Intent.TITLE_INFO, "ja", products=(SLIME,), focus=SLIME),
    Plan(Intent.AUTHOR_WORKS, "ja", products=(KAGUYA, OSHI_NO_KO), author="赤坂アカ"),
    Plan(Intent.AUTHOR_WORKS, "ja", author="赤坂アカ"),
    *(Plan(intent, "ja") for intent in (Intent.SHIPPING, Intent.RETURNS, Intent.PAYMENT)),
    *(Plan(intent, "ja") for intent in (Intent.GREETING, Intent.THANKS)),
    *(Plan(intent, "ja") for intent in (Intent.OUT_OF_SCOPE, Intent.UNKNOWN)),
]
EN_PLANS = [replace(plan, language="en") for plan in JA_PLANS]


def _plan_id(plan: Plan) -> str:
    return f"{plan.intent}-{'-'.join(r.title for r in plan_series(plan)) or 'none'}"


@pytest.mark.parametrize("plan", JA_PLANS, ids=_plan_id)
def test_japanese_answers_are_polite_and_name_only_plan_series(plan: Plan) -> None:
    text = ja(plan)

    assert_polite(text)
    assert_only_plan_titles(text, plan)


@pytest.mark.parametrize("plan", EN_PLANS, ids=_plan_id)
def test_english_answers_are_in_english(plan: Plan) -> None:
    text = en(plan)

    assert text.strip()
    assert_english(text, plan)
    assert "『" not in text


def test_japanese_recommendation_lists_each_series_with_its_stock() -> None:
    plan = Plan(Intent.RECOMMEND, "ja", products=(FRIEREN, SLIME))

    text = ja(plan)

    assert "『葬送のフリーレン』" in text
    assert "『転生したらスライムだった件』" in text
    frieren_line = next(line for line in text.splitlines() if "フリーレン" in line)
    slime_line = next(line for line in text.splitlines() if "スライム" in line)
    assert "在庫あり" in frieren_line
    assert "在庫切れ" in slime_line


def test_similar_recommendation_names_the_series_it_is_like() -> None:
    plan = Plan(Intent.RECOMMEND, "en", products=(FRIEREN,), similar_to=DEMON_SLAYER)

    assert '"Demon Slayer"' in en(plan)
    assert "『鬼滅の刃』" in ja(
        Plan(Intent.RECOMMEND, "ja", products=(FRIEREN,), similar_to=DEMON_SLAYER)
    )


def test_recommendation_without_products_apologizes() -> None:
    assert "申し訳ございません" in ja(Plan(Intent.RECOMMEND, "ja"))
    assert "sorry" in en(Plan(Intent.RECOMMEND, "en")).casefold()


# --- stock and price ---------------------------------------------------------------------------


def stock_plan(
    language: str, record: SeriesRecord, *, volume: int | None = None, latest_volume: bool = False
) -> Plan:
    return Plan(
        Intent.STOCK_PRICE,
        language,
        products=(record,),
        focus=record,
        volume=volume,
        latest_volume=latest_volume,
    )


def test_in_stock_series_is_reported_in_stock() -> None:
    ja_text = ja(stock_plan("ja", FRIEREN))
    en_text = en(stock_plan("en", FRIEREN))

    assert "在庫がございます" in ja_text
    assert "在庫切れ" not in ja_text
    assert "594円" in ja_text
    assert "is in stock" in en_text
    assert "out of stock" not in en_text
    assert "¥594" in en_text


def test_out_of_stock_series_is_reported_out_of_stock() -> None:
    ja_text = ja(stock_plan("ja", DEMON_SLAYER))
    en_text = en(stock_plan("en", DEMON_SLAYER))

    assert "在庫切れ" in ja_text
    assert "在庫がございます" not in ja_text
    assert "申し訳ございません" in ja_text
    assert "out of stock" in en_text
    assert "is in stock" not in en_text


def test_a_published_volume_is_named_in_the_stock_answer() -> None:
    assert "『葬送のフリーレン』の2巻は在庫がございます" in ja(
        stock_plan("ja", FRIEREN_14, volume=2)
    )
    assert "Volume 2 of" in en(stock_plan("en", FRIEREN_14, volume=2))


@pytest.mark.parametrize("record", [FRIEREN_14, DEMON_SLAYER], ids=["in-stock", "out-of-stock"])
def test_a_volume_beyond_the_published_count_is_not_released_yet(record: SeriesRecord) -> None:
    volume = record.volumes + 1

    ja_text = ja(stock_plan("ja", record, volume=volume))
    en_text = en(stock_plan("en", record, volume=volume))

    assert "まだ発売されておりません" in ja_text
    assert f"{record.volumes}巻まで" in ja_text
    assert "在庫がございます" not in ja_text
    assert "在庫切れ" not in ja_text
    assert "isn't released yet" in en_text
    assert f"volume {volume}" in en_text
    assert "in stock" not in en_text


def test_the_last_published_volume_is_not_called_unreleased() -> None:
    text = ja(stock_plan("ja", FRIEREN_14, volume=14))

    assert "まだ発売" not in text
    assert "在庫がございます" in text


def test_latest_volume_answer_says_which_volume_is_latest() -> None:
    assert "最新刊（14巻）" in ja(stock_plan("ja", FRIEREN_14, latest_volume=True))
    assert "latest volume" in en(stock_plan("en", FRIEREN_14, latest_volume=True))
    assert "(volume 14)" in en(stock_plan("en", FRIEREN_14, latest_volume=True))


def test_stock_question_without_a_series_asks_which_one() -> None:
    ja_text = ja(Plan(Intent.STOCK_PRICE, "ja", needs_title=True))
    en_text = en(Plan(Intent.STOCK_PRICE, "en", needs_title=True))

    assert "？" in ja_text
    assert "作品名" in ja_text
    assert en_text.startswith("Which series")


# --- title info and author works ---------------------------------------------------------------


def test_title_info_gives_author_volumes_and_synopsis() -> None:
    record = FRIEREN_14

    ja_text = ja(Plan(Intent.TITLE_INFO, "ja", products=(record,), focus=record))
    en_text = en(Plan(Intent.TITLE_INFO, "en", products=(record,), focus=record))

    assert record.author_ja in ja_text
    assert "14巻" in ja_text
    assert record.synopsis_ja in ja_text
    assert record.author in en_text
    assert "14 volumes" in en_text
    assert record.synopsis_en in en_text


def test_title_info_says_whether_the_series_is_completed() -> None:
    ja_text = ja(Plan(Intent.TITLE_INFO, "ja", products=(KAGUYA,), focus=KAGUYA))
    en_text = en(Plan(Intent.TITLE_INFO, "en", products=(KAGUYA,), focus=KAGUYA))

    assert "完結" in ja_text
    assert "completed" in en_text


def test_author_works_lists_every_work() -> None:
    plan_ja = Plan(Intent.AUTHOR_WORKS, "ja", products=(KAGUYA, OSHI_NO_KO), author="赤坂アカ")
    plan_en = Plan(Intent.AUTHOR_WORKS, "en", products=(KAGUYA, OSHI_NO_KO), author="赤坂アカ")

    ja_text = ja(plan_ja)
    en_text = en(plan_en)

    assert "赤坂アカ先生" in ja_text
    assert "『かぐや様は告らせたい』" in ja_text
    assert "『【推しの子】』" in ja_text
    assert "Aka Akasaka" in en_text
    assert '"Kaguya-sama: Love Is War"' in en_text
    assert '"Oshi no Ko"' in en_text


def test_author_works_of_a_team_names_the_asked_author_in_english() -> None:
    plan = Plan(Intent.AUTHOR_WORKS, "en", products=(FRIEREN,), author="Kanehito Yamada")

    text = en(plan)

    assert text.startswith("From Kanehito Yamada,")
    assert '"Frieren: Beyond Journey\'s End"' in text


def test_author_without_works_in_the_store_gets_an_apology() -> None:
    assert "申し訳ございません" in ja(Plan(Intent.AUTHOR_WORKS, "ja", author="赤坂アカ"))
    assert "Sorry" in en(Plan(Intent.AUTHOR_WORKS, "en", author="Aka Akasaka"))


@pytest.mark.parametrize(
    "message", ["Books by Kanehito Yamada", "What else did Tsugumi Ohba write?"]
)
def test_english_author_answer_from_the_planner_names_the_author_in_english(
    message: str, curated: list[SeriesRecord]
) -> None:
    view = CatalogView(curated, 1)
    plan = plan_message(message, "en", view, ConversationContext())
    assert plan.intent == Intent.AUTHOR_WORKS

    text = en(plan)

    assert_english(text, plan)


# --- store policies ----------------------------------------------------------------------------

CHANGED = StorePolicy(
    shipping_fee_jpy=770,
    free_shipping_from_jpy=8000,
    delivery_days="2-4",
    return_days=30,
    payment_methods=("bank_transfer", "apple_pay"),
)


def test_shipping_quotes_the_default_policy() -> None:
    ja_text = ja(Plan(Intent.SHIPPING, "ja"))
    en_text = en(Plan(Intent.SHIPPING, "en"))

    assert "550円" in ja_text
    assert "5,000円" in ja_text
    assert "1〜3営業日" in ja_text
    assert "¥550" in en_text
    assert "¥5,000" in en_text
    assert "1-3 business days" in en_text


def test_shipping_quotes_a_changed_policy() -> None:
    ja_text = ja(Plan(Intent.SHIPPING, "ja"), CHANGED)
    en_text = en(Plan(Intent.SHIPPING, "en"), CHANGED)

    assert "770円" in ja_text
    assert "8,000円" in ja_text
    assert "2〜4営業日" in ja_text
    assert "550" not in ja_text
    assert "¥770" in en_text
    assert "¥8,000" in en_text
    assert "2-4 business days" in en_text
    assert "550" not in en_text


def test_returns_quote_the_return_window() -> None:
    assert "14日以内" in ja(Plan(Intent.RETURNS, "ja"))
    assert "30日以内" in ja(Plan(Intent.RETURNS, "ja"), CHANGED)
    assert "within 14 days" in en(Plan(Intent.RETURNS, "en"))
    assert "within 30 days" in en(Plan(Intent.RETURNS, "en"), CHANGED)


def test_payment_lists_the_accepted_methods() -> None:
    ja_default = ja(Plan(Intent.PAYMENT, "ja"))
    en_default = en(Plan(Intent.PAYMENT, "en"))
    ja_changed = ja(Plan(Intent.PAYMENT, "ja"), CHANGED)
    en_changed = en(Plan(Intent.PAYMENT, "en"), CHANGED)

    for label in ("クレジットカード", "PayPay", "コンビニ払い", "代金引換"):
        assert label in ja_default
    for label in ("credit card", "PayPay", "convenience-store payment", "cash on delivery"):
        assert label in en_default
    assert "銀行振込" in ja_changed
    assert "Apple Pay" in ja_changed
    assert "クレジットカード" not in ja_changed
    assert "bank transfer" in en_changed
    assert "Apple Pay" in en_changed
    assert "credit card" not in en_changed


# --- small talk, redirects and clarifying questions --------------------------------------------


def test_greeting_welcomes_the_customer() -> None:
    assert "いらっしゃいませ" in ja(Plan(Intent.GREETING, "ja"))
    assert "welcome" in en(Plan(Intent.GREETING, "en")).casefold()


def test_thanks_gets_you_are_welcome() -> None:
    assert "どういたしまして" in ja(Plan(Intent.THANKS, "ja"))
    assert "You're welcome" in en(Plan(Intent.THANKS, "en"))


def test_out_of_scope_is_a_polite_redirect_to_manga() -> None:
    ja_text = ja(Plan(Intent.OUT_OF_SCOPE, "ja"))
    en_text = en(Plan(Intent.OUT_OF_SCOPE, "en"))

    assert ja_text.startswith("申し訳ございません")
    assert "漫画" in ja_text
    assert en_text.startswith("Sorry")
    assert "manga" in en_text


def test_unknown_opens_with_a_clarifying_question() -> None:
    assert first_sentence(ja(Plan(Intent.UNKNOWN, "ja"))).endswith("？")
    assert first_sentence(en(Plan(Intent.UNKNOWN, "en"))).endswith("?")


@pytest.mark.parametrize("language", ["ja", "en"])
def test_clarifying_question_names_no_series(language: str, curated: list[SeriesRecord]) -> None:
    view = CatalogView(curated, 1)
    plan = Plan(Intent.UNKNOWN, language)

    text = ja(plan) if language == "ja" else en(plan)

    assert view.names_in(text)[0] == []


def test_without_grounding_the_model_asks_in_english() -> None:
    model = OfflineModel(POLICY, estimate_tokens)

    text = model.answer_text(ModelRequest(system="", messages=()))

    assert text == en(Plan(Intent.UNKNOWN, "en"))


# --- chunking ----------------------------------------------------------------------------------

FAMILY = "👨‍👩‍👧‍👦"
FLAG = "🇯🇵"
GA = "か\u3099"  # が written as か + combining voiced sound mark

GRAPHEME = regex.compile(r"\X")


def grapheme_boundaries(text: str) -> set[int]:
    ends = {0}
    position = 0
    for cluster in GRAPHEME.findall(text):
        position += len(cluster)
        ends.add(position)
    return ends


def assert_clean_chunks(text: str, chunks: list[str]) -> None:
    assert "".join(chunks) == text
    assert all(chunks)
    boundaries = grapheme_boundaries(text)
    position = 0
    for chunk in chunks:
        position += len(chunk)
        assert position in boundaries, (chunk, text)
        assert len(GRAPHEME.findall(chunk)) <= CHUNK_GRAPHEMES


CHUNK_CASES = {
    "family-run": FAMILY * 30,
    "flag-run": FLAG * 30,
    "combining-at-the-limit": "あ" * 23 + GA + "い" * 5,
    "combining-runs": GA * 50,
    "mixed": f"家族{FAMILY}で日本{FLAG}の漫画をさ{GA}す。{FAMILY * 25}、{GA}{FLAG * 24}！end",
    "answer": ja(stock_plan("ja", FRIEREN_14, latest_volume=True)),
    "english": en(Plan(Intent.TITLE_INFO, "en", products=(FRIEREN,), focus=FRIEREN)),
    "empty": "",
}


@pytest.mark.parametrize("text", CHUNK_CASES.values(), ids=CHUNK_CASES.keys())
def test_chunks_join_back_and_never_split_a_grapheme(text: str) -> None:
    assert_clean_chunks(text, chunk_text(text))


def test_a_combining_mark_stays_with_its_kana_at_the_chunk_limit() -> None:
    chunks = chunk_text("あ" * 23 + GA + "い")

    assert chunks == ["あ" * 23 + GA, "い"]


def test_long_emoji_runs_are_cut_into_whole_emoji() -> None:
    chunks = chunk_text(FAMILY * 30)

    assert chunks == [FAMILY * 24, FAMILY * 6]


def test_chunks_end_at_punctuation() -> None:
    assert chunk_text("在庫がございます。すぐに発送いたします！") == [
        "在庫がございます。",
        "すぐに発送いたします！",
    ]


#: Grapheme clusters an answer can contain: kana, kanji, Latin, decomposed accents and voicing
#: marks, emoji with ZWJ, skin tones and flags, and the punctuation chunks are cut at.
ATOMS = ["a", "Z", "7", " ", "あ", "漫", "ｶ", GA, "e\u0301", FAMILY, FLAG, "👍🏽", "❤️",
         "。", "、", "！", "？", "!", "?", ".", ",", "\n", "「", "」"]  # fmt: skip


@given(st.lists(st.sampled_from(ATOMS), max_size=120))
def test_chunks_of_any_answer_text_are_whole_graphemes(atoms: list[str]) -> None:
    text = "".join(atoms)

    assert_clean_chunks(text, chunk_text(text))


@pytest.mark.parametrize("text", ["Great!\ufe0f Thanks", "すごい！\u3099ね", "ok.\u0301x"])
def test_a_mark_after_punctuation_stays_with_it(text: str) -> None:
    assert_clean_chunks(text, chunk_text(text))


def test_every_answer_chunks_cleanly() -> None:
    for plan in [*JA_PLANS, *EN_PLANS]:
        text = render_ja(plan, POLICY) if plan.language == "ja" else render_en(plan, POLICY)
        assert_clean_chunks(text, chunk_text(text))


# --- streaming ---------------------------------------------------------------------------------


def request_for(plan: Plan) -> ModelRequest:
    return ModelRequest(
        system="あなたは漫画ストアのアシスタントです。",
        messages=(ModelMessage("user", "葬送のフリーレンの最新刊は在庫ありますか？"),),
        grounding=plan,
    )


async def collect(model: OfflineModel, request: ModelRequest) -> list[StreamEvent]:
    return [event async for event in model.stream(request)]


@pytest.mark.parametrize("language", ["ja", "en"])
async def test_stream_is_text_deltas_then_exactly_one_end(language: str) -> None:
    model = OfflineModel(POLICY, estimate_tokens)
    plan = stock_plan(language, FRIEREN_14, latest_volume=True)

    events = await collect(model, request_for(plan))

    *deltas, end = events
    assert deltas
    assert all(isinstance(event, TextDelta) for event in deltas)
    assert isinstance(end, StreamEnd)
    assert end.stop_reason == "end_turn"
    assert end.usage.input_tokens > 0
    assert end.usage.output_tokens > 0
    text = "".join(event.text for event in deltas if isinstance(event, TextDelta))
    assert text == model.answer_text(request_for(plan))
    assert "14" in text


async def test_usage_estimates_the_prompt_and_the_answer() -> None:
    model = OfflineModel(POLICY, estimate_tokens)
    request = request_for(Plan(Intent.SHIPPING, "ja"))

    events = await collect(model, request)

    end = events[-1]
    assert isinstance(end, StreamEnd)
    prompt = estimate_tokens(request.system) + estimate_tokens(request.messages[0].text)
    assert end.usage.input_tokens == prompt
    assert end.usage.output_tokens == estimate_tokens(model.answer_text(request))


async def test_complete_equals_the_joined_deltas() -> None:
    model = OfflineModel(POLICY, estimate_tokens)
    request = request_for(Plan(Intent.RECOMMEND, "ja", products=(FRIEREN, SLIME)))

    events = await collect(model, request)
    completion = await model.complete(request)

    deltas = [event.text for event in events if isinstance(event, TextDelta)]
    assert completion.text == "".join(deltas)
    assert completion.deltas == tuple(deltas)
    assert completion.model_id == OFFLINE_MODEL_ID
    assert completion.usage.output_tokens > 0
    assert "『葬送のフリーレン』" in completion.text


async def test_the_policy_given_to_the_model_is_the_one_quoted() -> None:
    model = OfflineModel(CHANGED, estimate_tokens)

    completion = await model.complete(request_for(Plan(Intent.SHIPPING, "en")))

    assert "¥770" in completion.text

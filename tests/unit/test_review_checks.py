"""The review checks: moderation categories and severities, and the lexicon sentiment, in Japanese
and English, after NFKC (full-width digits, half-width kana), with negation and emoji."""

from __future__ import annotations

import pytest

from mangaassist.jobs.review_checks import EXCERPT_CHARS, check_review
from mangaassist.jobs.review_sentiment import analyze_sentiment, rating_score

# -- moderation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "面白かった！続きが楽しみです。",
        "主人公が敵を殺すシーンは圧巻。死ぬほど笑った",  # plot violence is no threat
        "バカンス編が好き。アホウドリの話も良い",  # バカ/アホ inside longer katakana words
        "行くそうです、と友達が言っていました",  # くそ inside ordinary Japanese
        "ISBN 978-4-08-872509-3 の初版を2024-01-15に購入",  # ISBN and dates are not phones
        "ONE PIECEとSPY×FAMILYは最高",
        "Great art, the story was a bit slow in the middle but worth it.",
        "ストーリーラインが秀逸",  # ライン without an id is no LINE account
        "第1巻から第12巻まで一気読みwww",
    ],
)
def test_ordinary_reviews_are_not_flagged(text: str) -> None:
    assert not check_review(text).flagged


@pytest.mark.parametrize(
    ("text", "category", "severity"),
    [
        ("連絡は090-1234-5678まで", "contact_details", "high"),
        ("連絡は０９０－１２３４－５６７８まで", "contact_details", "high"),  # full-width digits
        ("電話 03-1234-5678", "contact_details", "high"),
        ("call me +81 90 1234 5678", "contact_details", "high"),
        ("call (555) 123-4567 now", "contact_details", "high"),
        ("メールはｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍへ", "contact_details", "high"),
        ("LINE ID: manga_fan99 で交換しよう", "contact_details", "high"),
        ("作者は死ね", "harassment", "high"),
        ("the author is trash", "harassment", "high"),
        ("殺してやるからな", "threat", "critical"),
        ("I'll kill you", "threat", "critical"),
        ("I’ll kill you", "threat", "critical"),  # a curly apostrophe
        ("just kill yourself", "threat", "critical"),
        ("この漫画はクソ", "profanity", "medium"),
        ("This is fucking boring", "profanity", "medium"),
        ("詳しくは https://example.com/manga を見て", "link", "medium"),
        ("amazon.co.jpの方が安い", "link", "medium"),
        ("ﾈﾀﾊﾞﾚ注意：最終巻で主人公が…", "spoiler", "low"),  # half-width kana
        ("Spoiler alert: the mentor dies", "spoiler", "low"),
        ("最高！！！！！！！！！！！！", "spam", "low"),
        ("THIS IS THE WORST MANGA I HAVE EVER READ", "spam", "low"),
    ],
)
def test_each_rule_flags_its_category_with_its_severity(
    text: str, category: str, severity: str
) -> None:
    check = check_review(text)
    assert check.categories == (category,)
    assert check.severity == severity


def test_the_severity_is_the_most_serious_category_and_comes_first() -> None:
    check = check_review("ネタバレあり。感想はtaro@example.comまで")
    assert check.severity == "high"
    assert check.categories == ("contact_details", "spoiler")
    assert check.signals == ("email", "spoiler_marker")


def test_a_link_in_a_spammy_review_is_high() -> None:
    # A link alone is medium; with shouting or repeated characters it is promotion spam.
    assert check_review("CHEAP MANGA HERE!!!!!!!!!!!! http://spam.example").severity == "high"
    assert check_review("see http://example.com").severity == "medium"


def test_a_threat_outranks_everything() -> None:
    check = check_review("ネタバレ。作者は死ね、殺してやる http://x.example.com")
    assert check.severity == "critical"
    assert check.categories[0] == "threat"


def test_a_short_review_is_its_own_excerpt_and_a_long_one_a_window_on_the_finding() -> None:
    short = "電話は090-1234-5678"
    assert check_review(short).excerpt == short

    long_text = (
        "とても面白い漫画でした。" * 150 + "連絡は090-1234-5678まで。" + "続きも楽しみ。" * 100
    )
    excerpt = check_review(long_text).excerpt
    assert len(excerpt) <= EXCERPT_CHARS
    assert "090-1234-5678" in excerpt
    assert excerpt.startswith("…")
    assert excerpt.endswith("…")


def test_a_number_too_short_or_too_long_is_no_phone() -> None:
    assert not check_review("在庫番号 012-345").flagged
    assert not check_review("注文 0123-4567-8901-2345").flagged


# -- sentiment ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("面白かった！最高です", "positive"),
        ("感動しました。おすすめです", "positive"),
        ("つまらない。最悪、がっかりした", "negative"),
        ("面白くない", "negative"),
        ("全然面白くなかった", "negative"),
        ("好きじゃない", "negative"),
        ("感動しなかった", "negative"),
        ("楽しめなかった", "negative"),
        ("つまらなくはない", "positive"),  # a negated negative leans positive
        ("最後まで飽きさせない", "positive"),
        ("ｵﾓｼﾛｲ!", "positive"),  # half-width kana through NFKC
        ("Loved it, a masterpiece", "positive"),
        ("not good", "negative"),
        ("I wouldn't recommend it", "negative"),
        ("Not bad at all", "positive"),
        ("boring and rushed", "negative"),
        ("😍😍👍", "positive"),
        ("👎😡", "negative"),
        ("普通の漫画です", "neutral"),
    ],
)
def test_the_lexicon_reads_japanese_english_negation_and_emoji(text: str, label: str) -> None:
    assert analyze_sentiment(text).label == label


def test_the_stars_weigh_more_than_the_words() -> None:
    # Given five stars and one negative word: 0.6 * 1 + 0.4 * (-1 / 2) = 0.4
    sentiment = analyze_sentiment("つまらない", 5)
    assert sentiment.score == pytest.approx(0.4)
    assert sentiment.label == "positive"
    assert sentiment.text_score == pytest.approx(-0.5)


def test_stars_alone_and_words_alone_each_decide() -> None:
    assert analyze_sentiment("普通", 1).score == -1.0
    assert analyze_sentiment("普通", 3).label == "neutral"
    assert analyze_sentiment("最高", None).score == pytest.approx(0.5)
    assert analyze_sentiment("", None).score == 0.0


@pytest.mark.parametrize("rating", [0, 6, -3])
def test_a_rating_outside_one_to_five_is_ignored(rating: int) -> None:
    assert rating_score(rating) is None
    assert analyze_sentiment("最高", rating).score == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("text", "rating"),
    [("最高" * 50, 5), ("最悪" * 50, 1), ("😍" * 200, 5), ("not bad " * 40, 1), ("", 5)],
)
def test_the_score_stays_within_minus_one_and_one(text: str, rating: int) -> None:
    score = analyze_sentiment(text, rating).score
    assert -1.0 <= score <= 1.0

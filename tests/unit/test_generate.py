"""The synthetic catalog generator: valid, unique, reproducible records in every script."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections import Counter
from itertools import islice
from pathlib import Path

import pytest

from mangaassist.catalog import generate
from mangaassist.catalog.generate import generate_records, write_jsonl
from mangaassist.catalog.loader import parse_catalog

# --- The format document (docs/catalog-format.md), restated independently of the generator ---

REQUIRED = {
    "title": str,
    "titleJa": str,
    "author": str,
    "authorJa": str,
    "genre": str,
    "demographic": str,
    "volumes": int,
    "status": str,
    "priceJpy": int,
    "stock": int,
    "releaseYear": int,
    "ageRating": str,
    "synopsisEn": str,
    "synopsisJa": str,
    "isbn": str,
}
OPTIONAL = {
    "id": str,
    "titleKana": str,
    "titleRomaji": str,
    "aliases": list,
    "authorKana": str,
    "authorRomaji": str,
    "tags": list,
    "publisher": str,
    "isbnSynthetic": bool,
}
GENRES = {"shonen", "shoujo", "seinen", "josei", "isekai", "horror", "sports"}
DEMOGRAPHICS = {"shonen", "shoujo", "seinen", "josei", "kodomo"}
STATUSES = {"ongoing", "completed"}
AGE_RATINGS = {"all", "13+", "16+", "18+"}
# The tag vocabulary as the format document lists it.
DOC_TAG_VOCABULARY = """
action, adventure, comedy, drama, romance, fantasy, dark_fantasy, sci_fi, mystery, thriller,
psychological, supernatural, slice_of_life, historical, school, martial_arts, music, cooking,
mecha, military, survival, post_apocalyptic, game, reincarnation, magic, monsters, detective,
crime, family, coming_of_age, workplace, idol, art, gore, scary, tearjerker, heartwarming,
inspiring, iyashikei
"""
TAGS = set(re.findall(r"[a-z_]+", DOC_TAG_VOCABULARY))
ID_PATTERN = re.compile(r"^MNG-[A-Z0-9]{8}$")
HIRAGANA_TEXT = re.compile(r"^[\u3041-\u3096ー・ 、。！？〜]+$")


def derive_id(title_ja: str, author_ja: str) -> str:
    digest = hashlib.sha256(f"{title_ja}\x1f{author_ja}".encode()).digest()
    return "MNG-" + base64.b32encode(digest).decode()[:8]


def isbn13_check_digit(first12: str) -> str:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def format_problems(record: dict[str, object]) -> list[str]:
    """Everything in ``record`` that docs/catalog-format.md does not allow (empty when valid)."""
    problems = []
    for key, kind in REQUIRED.items():
        value = record.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            problems.append(f"{key} missing or not {kind.__name__}")
    for key, kind in OPTIONAL.items():
        if key in record and not isinstance(record[key], kind):
            problems.append(f"{key} not {kind.__name__}")
    unknown = set(record) - set(REQUIRED) - set(OPTIONAL)
    if unknown:
        problems.append(f"unknown keys {sorted(unknown)}")
    if problems:
        return problems

    def number(key: str) -> int:
        value = record[key]
        assert isinstance(value, int)
        return value

    for key in ("title", "titleJa", "author", "authorJa", "synopsisEn", "synopsisJa"):
        if not str(record[key]).strip():
            problems.append(f"{key} empty")
    checks = {
        "genre": record["genre"] in GENRES,
        "demographic": record["demographic"] in DEMOGRAPHICS,
        "status": record["status"] in STATUSES,
        "ageRating": record["ageRating"] in AGE_RATINGS,
        "volumes": 1 <= number("volumes") <= 120,
        "priceJpy": 484 <= number("priceJpy") <= 1100,
        "stock": 0 <= number("stock") <= 300,
        "releaseYear": 1970 <= number("releaseYear") <= 2026,
        "isbnSynthetic": record.get("isbnSynthetic") is True,
    }
    problems.extend(f"bad {key}: {record.get(key)!r}" for key, ok in checks.items() if not ok)
    tags = record.get("tags", [])
    assert isinstance(tags, list)
    if not 2 <= len(tags) <= 5 or len(set(tags)) != len(tags) or not set(tags) <= TAGS:
        problems.append(f"bad tags {tags}")
    record_id = str(record.get("id", ""))
    if not ID_PATTERN.match(record_id):
        problems.append(f"bad id {record_id!r}")
    if record_id != derive_id(str(record["titleJa"]), str(record["authorJa"])):
        problems.append("id is not derive_id(titleJa, authorJa)")
    isbn = str(record["isbn"])
    if not (len(isbn) == 13 and isbn.isdigit() and isbn13_check_digit(isbn[:12]) == isbn[12]):
        problems.append(f"bad ISBN-13 {isbn!r}")
    return problems


# --- Hepburn romanization of hiragana (long vowels spelled out), to cross-check readings ---

_KANA_TABLE = """
あ a     い i     う u     え e     お o     か ka    き ki    く ku    け ke    こ ko
が ga    ぎ gi    ぐ gu    げ ge    ご go    さ sa    し shi   す su    せ se    そ so
ざ za    じ ji    ず zu    ぜ ze    ぞ zo    た ta    ち chi   つ tsu   て te    と to
だ da    ぢ ji    づ zu    で de    ど do    な na    に ni    ぬ nu    ね ne    の no
は ha    ひ hi    ふ fu    へ he    ほ ho    ば ba    び bi    ぶ bu    べ be    ぼ bo
ぱ pa    ぴ pi    ぷ pu    ぺ pe    ぽ po    ま ma    み mi    む mu    め me    も mo
や ya    ゆ yu    よ yo    ら ra    り ri    る ru    れ re    ろ ro    わ wa    を o
ぁ a     ぃ i     ぅ u     ぇ e     ぉ o
"""
_KANA = dict(zip(_KANA_TABLE.split()[0::2], _KANA_TABLE.split()[1::2], strict=True))
_DIGRAPHS = {
    "ふぁ": "fa", "ふぃ": "fi", "ふぇ": "fe", "ふぉ": "fo", "てぃ": "ti", "でぃ": "di",
    "うぃ": "wi", "うぇ": "we", "うぉ": "wo", "しぇ": "she", "じぇ": "je", "ちぇ": "che",
    "とぅ": "tu",
}  # fmt: skip
for _kana, _stem in {"し": "sh", "ち": "ch", "じ": "j"}.items():
    _DIGRAPHS.update(
        {_kana + "ゃ": _stem + "a", _kana + "ゅ": _stem + "u", _kana + "ょ": _stem + "o"}
    )
for _kana in "きにひみりぎびぴ":
    _stem = _KANA[_kana][:-1]
    _DIGRAPHS.update(
        {_kana + "ゃ": _stem + "ya", _kana + "ゅ": _stem + "yu", _kana + "ょ": _stem + "yo"}
    )


def hepburn(kana: str) -> str:
    """Lower-case Hepburn of a hiragana string; other characters are dropped."""
    syllables: list[str] = []
    i = 0
    while i < len(kana):
        pair, char = kana[i : i + 2], kana[i]
        if pair in _DIGRAPHS:
            syllables.append(_DIGRAPHS[pair])
            i += 2
            continue
        if char == "ー" and syllables:
            syllables.append(syllables[-1][-1])
        elif char in ("っ", "ん"):
            syllables.append(char)
        elif char in _KANA:
            syllables.append(_KANA[char])
        i += 1
    out = ""
    for index, syllable in enumerate(syllables):
        if syllable == "っ":
            following = syllables[index + 1] if index + 1 < len(syllables) else ""
            out += "t" if following.startswith("ch") else following[:1]
        elif syllable == "ん":
            out += "n"
        else:
            out += syllable
    return out


#: English words that title patterns add around the theme words.
TITLE_PATTERN_WORDS = """
the and of that time got reincarnated as another world became tale curse club high school middle
academy part girl girls boys ghost stories spirit days reincarnation
"""


def letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


# --- Fixtures ---


@pytest.fixture(scope="module")
def records() -> list[dict[str, object]]:
    return list(generate_records(20_000, seed=7))


# --- Tests ---


def test_every_record_is_valid_per_the_format_document(records: list[dict[str, object]]) -> None:
    invalid = {i: p for i, r in enumerate(records) if (p := format_problems(r))}
    assert not invalid, dict(islice(invalid.items(), 5))


def test_the_catalog_loader_accepts_a_generated_file(tmp_path: Path) -> None:
    path = tmp_path / "generated.jsonl"
    write_jsonl(generate_records(2_000, seed=3), path)

    parsed = parse_catalog(path)

    assert parsed.errors == []
    assert len(parsed.records) == 2_000
    assert all(record.isbn_synthetic for record in parsed.records)


def test_ids_and_isbns_are_unique(records: list[dict[str, object]]) -> None:
    assert len({r["id"] for r in records}) == len(records)
    assert len({r["isbn"] for r in records}) == len(records)
    assert all(str(r["isbn"]).startswith("9784999") for r in records)


def test_isbns_stay_unique_and_valid_past_100000_records() -> None:
    isbns = [str(r["isbn"]) for r in generate_records(100_002, seed=0)]

    assert len(set(isbns)) == len(isbns)
    assert isbns[99_999].startswith("978499999999")
    assert [isbn[:7] for isbn in isbns[100_000:]] == ["9784998", "9784998"]
    assert all(isbn13_check_digit(isbn[:12]) == isbn[12] for isbn in isbns[99_990:])


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_jsonl(generate_records(3_000, seed=42), first)
    write_jsonl(generate_records(3_000, seed=42), second)

    assert first.read_bytes() == second.read_bytes()


def test_a_longer_run_starts_with_the_shorter_one() -> None:
    assert list(generate_records(100, seed=5)) == list(generate_records(300, seed=5))[:100]


def test_different_seeds_give_different_catalogs() -> None:
    titles_a = [r["titleJa"] for r in generate_records(500, seed=1)]
    titles_b = [r["titleJa"] for r in generate_records(500, seed=2)]

    assert titles_a != titles_b
    assert len(set(titles_a) & set(titles_b)) < 50


def test_all_seven_genres_have_equal_shares(records: list[dict[str, object]]) -> None:
    counts = Counter(r["genre"] for r in records)

    assert set(counts) == GENRES
    assert max(counts.values()) - min(counts.values()) <= 1


def test_demographic_fits_the_genre(records: list[dict[str, object]]) -> None:
    allowed = {
        "shonen": {"shonen", "kodomo"},
        "shoujo": {"shoujo", "kodomo"},
        "seinen": {"seinen"},
        "josei": {"josei"},
        "isekai": {"seinen", "shonen", "josei", "shoujo"},
        "horror": {"seinen", "shonen", "shoujo", "josei"},
        "sports": {"shonen", "seinen", "shoujo", "kodomo"},
    }
    misfits = [r for r in records if r["demographic"] not in allowed[str(r["genre"])]]
    assert misfits == []
    gory = [r for r in records if "gore" in str(r["tags"])]
    assert gory
    assert all(r["ageRating"] in ("16+", "18+") for r in gory)


def test_some_series_are_out_of_stock_but_most_are_not(records: list[dict[str, object]]) -> None:
    share = sum(r["stock"] == 0 for r in records) / len(records)

    assert 0.09 < share < 0.15


def test_volumes_are_mostly_few(records: list[dict[str, object]]) -> None:
    volumes = sorted(int(str(r["volumes"])) for r in records)

    assert volumes[len(volumes) // 2] <= 15
    assert volumes[-1] > 40


def test_title_kana_is_hiragana_only(records: list[dict[str, object]]) -> None:
    not_hiragana = [r["titleKana"] for r in records if not HIRAGANA_TEXT.match(str(r["titleKana"]))]
    assert not_hiragana == []
    bad_authors = [
        r["authorKana"]
        for r in records
        if not all(HIRAGANA_TEXT.match(name) for name in str(r["authorKana"]).split(" / "))
    ]
    assert bad_authors == []


def test_romaji_spells_the_kana_reading(records: list[dict[str, object]]) -> None:
    wrong = [
        (r["titleKana"], r["titleRomaji"])
        for r in records
        if letters(str(r["titleRomaji"])) != hepburn(str(r["titleKana"]))
    ]
    wrong += [
        (r["authorKana"], r["authorRomaji"])
        for r in records
        if letters(str(r["authorRomaji"])) != hepburn(str(r["authorKana"]))
    ]
    assert wrong == []


def test_author_is_given_name_first_and_romaji_family_name_first(
    records: list[dict[str, object]],
) -> None:
    def short(name: str) -> str:
        return name.replace("ou", "o").replace("oo", "o").replace("uu", "u")

    for record in records[:2_000]:
        for english, romaji in zip(
            str(record["author"]).split(" / "),
            str(record["authorRomaji"]).split(" / "),
            strict=True,
        ):
            given, family = english.split()
            romaji_family, romaji_given = romaji.split()
            assert family in (romaji_family, short(romaji_family)), (english, romaji)
            assert given in (romaji_given, short(romaji_given)), (english, romaji)


def test_titles_rarely_repeat(records: list[dict[str, object]]) -> None:
    assert len({r["titleJa"] for r in records}) > 0.97 * len(records)
    assert len({r["title"] for r in records}) > 0.97 * len(records)


def test_the_english_synopsis_names_a_theme_word_of_the_title(
    records: list[dict[str, object]],
) -> None:
    pattern_words = set(TITLE_PATTERN_WORDS.split())
    missing = []
    for record in records:
        words = set(re.findall(r"[a-z]+", str(record["title"]).lower())) - pattern_words
        if not any(re.search(rf"\b{word}\b", str(record["synopsisEn"])) for word in words):
            missing.append((record["title"], record["synopsisEn"]))
    assert missing == []


def test_the_japanese_synopsis_is_polite_style(records: list[dict[str, object]]) -> None:
    for record in records[:2_000]:
        synopsis = str(record["synopsisJa"])
        assert synopsis.endswith("。")
        assert "です" in synopsis or "ます" in synopsis


def test_repeated_title_and_author_get_a_numbered_part_in_every_script(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With two nouns, two adjectives and two authors, title/author pairs repeat constantly.
    monkeypatch.setattr(generate, "_NOUNS", generate._NOUNS[:2])
    monkeypatch.setattr(generate, "_ADJECTIVES", generate._ADJECTIVES[:2])
    monkeypatch.setattr(generate, "_FAMILY_NAMES", generate._FAMILY_NAMES[:1])
    monkeypatch.setattr(generate, "_GIVEN_NAMES", generate._GIVEN_NAMES[:2])

    records = list(generate_records(700, seed=0))

    assert len({r["id"] for r in records}) == 700
    assert all(not format_problems(r) for r in records)
    parts = [r for r in records if " 第" in str(r["titleJa"])]
    assert len(parts) > 100
    kanji_numbers = "一二三四五六七八九十"
    for record in parts:
        number = re.search(r": Part (\d+)$", str(record["title"]))
        assert number, record["title"]
        assert int(number.group(1)) >= 2
        assert re.search(rf" 第[{kanji_numbers}]+部$", str(record["titleJa"]))
        assert re.search(r" だい[\u3041-\u3096]+ぶ$", str(record["titleKana"]))
        assert re.search(r" Dai [A-Z][a-z]+ Bu$", str(record["titleRomaji"]))
    numbered = Counter((str(r["titleJa"]).split(" 第")[0], r["authorJa"]) for r in parts)
    assert max(numbered.values()) >= 2


def test_write_jsonl_round_trips_and_returns_the_count(tmp_path: Path) -> None:
    path = tmp_path / "catalog.jsonl"
    original = list(generate_records(250, seed=9))

    written = write_jsonl(original, path)

    assert written == 250
    text = path.read_text(encoding="utf-8")
    assert "\\u" not in text  # Japanese is written as UTF-8, not escaped
    assert [json.loads(line) for line in text.splitlines()] == original


def test_write_jsonl_accepts_a_lazy_iterator_and_an_empty_input(tmp_path: Path) -> None:
    assert write_jsonl(generate_records(0), tmp_path / "empty.jsonl") == 0
    assert (tmp_path / "empty.jsonl").read_bytes() == b""
    assert write_jsonl(generate_records(10, seed=1), tmp_path / "ten.jsonl") == 10


def test_negative_or_huge_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="count"):
        generate_records(-1)
    with pytest.raises(ValueError, match="count"):
        generate_records(generate.MAX_COUNT + 1)

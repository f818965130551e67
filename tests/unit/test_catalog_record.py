"""Series records: ids, ISBNs and the validation a catalog file goes through."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mangaassist.domain.catalog import SeriesRecord, derive_id
from mangaassist.domain.isbn import is_valid_isbn13, isbn13_check_digit
from tests.conftest import make_record


def test_derived_id_is_stable_and_well_formed() -> None:
    first = derive_id("鬼滅の刃", "吾峠呼世晴")
    assert first == derive_id("鬼滅の刃", "吾峠呼世晴")
    assert first != derive_id("鬼滅の刃", "別の作者")
    assert first.startswith("MNG-")
    assert len(first) == 12
    assert first[4:].isalnum()
    assert first[4:] == first[4:].upper()


def test_record_without_id_gets_the_derived_one() -> None:
    record = make_record(title_ja="呪術廻戦", author_ja="芥見下々")
    assert record.id == derive_id("呪術廻戦", "芥見下々")


def test_explicit_id_is_kept() -> None:
    assert make_record(id="MNG-ABCDEFGH").id == "MNG-ABCDEFGH"


@pytest.mark.parametrize("isbn", ["9784088725093", "978-4-08-872509-3", "9780306406157"])
def test_valid_isbns(isbn: str) -> None:
    assert make_record(isbn=isbn).isbn == isbn.replace("-", "")


@pytest.mark.parametrize("isbn", ["9784088725094", "978408872509", "978408872509X", ""])
def test_invalid_isbns_are_rejected(isbn: str) -> None:
    with pytest.raises(ValidationError, match="ISBN-13"):
        make_record(isbn=isbn)


def test_check_digit() -> None:
    assert isbn13_check_digit("978408872509") == "3"
    assert is_valid_isbn13("9784999000005")
    assert not is_valid_isbn13(
        "９７８４０８８７２５０９３"
    )  # full-width digits are not digits here


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("genre", "romcom"),
        ("tags", ["action", "explosions"]),
        ("id", "MNG-abc"),
        ("stock", -1),
        ("volumes", 0),
        ("release_year", 1850),
        ("title", "   "),
    ],
)
def test_invalid_fields_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        make_record(**{field: value})
    assert field in str(caught.value)


def test_unknown_keys_are_rejected() -> None:
    with pytest.raises(ValidationError, match="extra"):
        SeriesRecord.model_validate({**make_record().model_dump(), "colour": "red"})


def test_duplicate_tags_collapse() -> None:
    assert make_record(tags=["comedy", "romance", "comedy"]).tags == ("comedy", "romance")


def test_missing_romaji_is_derived_when_a_romanizer_is_given() -> None:
    raw = make_record(title_romaji="", author_romaji="").model_dump()
    record = SeriesRecord.model_validate(raw).with_derived_fields(lambda text: f"romaji({text})")
    assert record.title_romaji == "romaji(見本の漫画)"
    assert record.author_romaji == "romaji(山田太郎)"

"""Catalog files: JSON Lines and CSV, with errors that name the line and the field."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from mangaassist.catalog.loader import parse_catalog
from tests.conftest import make_record


def _raw(**overrides: object) -> dict[str, object]:
    """A record as a catalog file states it, without an id (the loader derives it)."""
    raw = make_record(**overrides).model_dump(by_alias=True, mode="json")
    del raw["id"]
    return raw


def _write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_valid_jsonl_loads_every_record(tmp_path: Path) -> None:
    lines = [json.dumps(_raw(title_ja=f"作品{i}"), ensure_ascii=False) for i in range(3)]
    parsed = parse_catalog(_write_jsonl(tmp_path / "c.jsonl", lines))
    assert parsed.errors == []
    assert [r.title_ja for r in parsed.records] == ["作品0", "作品1", "作品2"]
    assert parsed.lines == 3


def test_blank_lines_and_bom_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text("\ufeff" + json.dumps(_raw()) + "\n\n", encoding="utf-8")
    assert len(parse_catalog(path).records) == 1


def test_errors_name_line_and_field(tmp_path: Path) -> None:
    lines = [
        json.dumps(_raw(title_ja="正常")),
        "{not json",
        json.dumps({**_raw(title_ja="悪い"), "genre": "romcom"}),
        json.dumps([1, 2]),
        json.dumps({**_raw(title_ja="在庫"), "stock": -3}),
    ]
    parsed = parse_catalog(_write_jsonl(tmp_path / "c.jsonl", lines))
    where = [(e.line, e.field) for e in parsed.errors]
    assert where == [(2, ""), (3, "genre"), (4, ""), (5, "stock")]
    assert "not valid JSON" in str(parsed.errors[0])
    assert str(parsed.errors[1]).startswith("line 3, genre:")
    assert len(parsed.records) == 1


def test_duplicate_ids_point_to_the_first_line(tmp_path: Path) -> None:
    same = json.dumps(_raw(title_ja="同じ"), ensure_ascii=False)
    parsed = parse_catalog(_write_jsonl(tmp_path / "c.jsonl", [same, same]))
    assert len(parsed.errors) == 1
    assert parsed.errors[0].line == 2
    assert "first on line 1" in parsed.errors[0].message


def test_csv_with_list_cells(tmp_path: Path) -> None:
    raw = _raw(title_ja="ＣＳＶの漫画", tags=["comedy", "romance"], aliases=["しーえすぶい"])
    path = tmp_path / "c.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(raw))
        writer.writeheader()
        writer.writerow({k: "|".join(v) if isinstance(v, list) else v for k, v in raw.items()})
    parsed = parse_catalog(path)
    assert parsed.errors == []
    record = parsed.records[0]
    assert record.tags == ("comedy", "romance")
    assert record.aliases == ("しーえすぶい",)
    assert record.stock == 10
    assert record.isbn_synthetic is False


def test_csv_errors_use_file_line_numbers(tmp_path: Path) -> None:
    raw = _raw()
    path = tmp_path / "c.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(raw))
        writer.writeheader()
        writer.writerow({k: v if not isinstance(v, list) else "" for k, v in raw.items()})
        writer.writerow({**{k: "" for k in raw}, "title": "only a title"})
    parsed = parse_catalog(path)
    assert parsed.errors
    assert all(e.line == 3 for e in parsed.errors)
    assert {"titleJa", "genre"} <= {e.field for e in parsed.errors}

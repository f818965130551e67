"""Reading catalog files (JSON Lines or CSV) into validated records, reporting bad lines.

A file is validated whole before anything is written: a bad line is reported with its line number
and field, and the load stops, so a catalog is never half-loaded silently.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mangaassist.domain.catalog import RomanizeFn, SeriesRecord

__all__ = ["BUILTIN_CATALOG", "LineError", "ParsedCatalog", "parse_catalog", "read_lines"]

#: The curated catalog that ships in the package.
BUILTIN_CATALOG = Path(str(files("mangaassist.catalog") / "data" / "catalog.jsonl"))
#: CSV cells of these keys hold lists joined with "|".
_CSV_LIST_KEYS = ("tags", "aliases")


@dataclass(frozen=True, slots=True)
class LineError:
    """What is wrong with one line of a catalog file."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.field}" if self.field else "")
        return f"{where}: {self.message}"


@dataclass(slots=True)
class ParsedCatalog:
    """The valid records of a file and the errors of its invalid lines."""

    records: list[SeriesRecord]
    errors: list[LineError]
    lines: int


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | LineError]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            line = reader.line_num
            if None in row:
                yield line, LineError(line, "", "more cells than header columns")
                continue
            cells: dict[str, Any] = {k: v for k, v in row.items() if v not in (None, "")}
            for key in _CSV_LIST_KEYS:
                if key in cells:
                    cells[key] = [part.strip() for part in cells[key].split("|") if part.strip()]
            yield line, cells


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | LineError]]:
    with path.open(encoding="utf-8-sig") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield line, LineError(line, "", f"not valid JSON ({exc.msg}, column {exc.colno})")
                continue
            if not isinstance(value, dict):
                yield line, LineError(line, "", "expected a JSON object")
                continue
            yield line, value


def read_lines(path: Path) -> Iterator[tuple[int, dict[str, Any] | LineError]]:
    """(line number, raw record or the line's error) for a ``.jsonl``/``.json`` or ``.csv`` file."""
    if path.suffix.lower() == ".csv":
        return _csv_rows(path)
    return _jsonl_rows(path)


def _validation_errors(line: int, exc: ValidationError) -> list[LineError]:
    return [
        LineError(line, ".".join(str(part) for part in err["loc"]), err["msg"])
        for err in exc.errors(include_url=False)
    ]


def parse_catalog(path: Path, romanize: RomanizeFn | None = None) -> ParsedCatalog:
    """Validate every line of ``path``; ids and missing romaji are derived per record."""
    parsed = ParsedCatalog([], [], 0)
    first_line_of: dict[str, int] = {}
    for line, raw in read_lines(path):
        parsed.lines += 1
        if isinstance(raw, LineError):
            parsed.errors.append(raw)
            continue
        try:
            record = SeriesRecord.model_validate(raw).with_derived_fields(romanize)
        except ValidationError as exc:
            parsed.errors.extend(_validation_errors(line, exc))
            continue
        if record.id in first_line_of:
            message = f"duplicate id {record.id} (first on line {first_line_of[record.id]})"
            parsed.errors.append(LineError(line, "id", message))
            continue
        first_line_of[record.id] = line
        parsed.records.append(record)
    return parsed

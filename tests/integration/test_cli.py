"""The ``mangaassist`` command as an operator uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mangaassist.cli import app
from tests.conftest import make_record

runner = CliRunner()


@pytest.fixture(autouse=True)
def _store_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MANGAASSIST_STORE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("COLUMNS", "200")


def _catalog_file(path: Path, count: int) -> Path:
    lines = []
    for i in range(count):
        raw = make_record(title=f"Series {i}", title_ja=f"作品{i}").model_dump(
            by_alias=True, mode="json"
        )
        del raw["id"]
        lines.append(json.dumps(raw, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_then_reload_then_if_empty(tmp_path: Path) -> None:
    catalog = _catalog_file(tmp_path / "c.jsonl", 5)

    first = runner.invoke(app, ["catalog", "load", str(catalog)])
    again = runner.invoke(app, ["catalog", "load", str(catalog)])
    skipped = runner.invoke(app, ["catalog", "load", "--if-empty"])

    assert first.exit_code == 0, first.output
    assert "Loaded 5 series" in first.output
    assert "5 new" in first.output
    assert "5 unchanged" in again.output
    assert "already has series" in skipped.output


def test_bad_file_loads_nothing_and_names_the_lines(tmp_path: Path) -> None:
    catalog = _catalog_file(tmp_path / "c.jsonl", 3)
    lines = catalog.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace('"genre": "shonen"', '"genre": "space opera"')
    catalog.write_text("\n".join(lines) + "\n{broken\n", encoding="utf-8")

    result = runner.invoke(app, ["catalog", "load", str(catalog)])
    search = runner.invoke(app, ["catalog", "search", "作品", "--json"])

    assert result.exit_code == 1
    assert "line 2, genre" in result.output
    assert "line 4: not valid JSON" in result.output
    assert "nothing was loaded" in result.output
    assert json.loads(search.output)["total"] == 0


def test_search_prints_matches(tmp_path: Path) -> None:
    runner.invoke(app, ["catalog", "load", str(_catalog_file(tmp_path / "c.jsonl", 3))])

    table = runner.invoke(app, ["catalog", "search", "作品2"])
    as_json = runner.invoke(app, ["catalog", "search", "series", "--limit", "2", "--json"])

    assert table.exit_code == 0
    assert "作品2" in table.output
    assert len(json.loads(as_json.output)["results"]) == 2


def test_generate_writes_the_requested_count(tmp_path: Path) -> None:
    out = tmp_path / "gen.jsonl"
    result = runner.invoke(
        app, ["catalog", "generate", "--count", "250", "--seed", "3", "--out", str(out)]
    )
    loaded = runner.invoke(app, ["catalog", "load", str(out)])

    assert result.exit_code == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 250
    assert "250 new" in loaded.output


def test_openapi_check_detects_drift(tmp_path: Path) -> None:
    out = tmp_path / "openapi.json"
    out.write_text("{}", encoding="utf-8")

    stale = runner.invoke(app, ["openapi", "--out", str(out), "--check"])
    written = runner.invoke(app, ["openapi", "--out", str(out)])
    fresh = runner.invoke(app, ["openapi", "--out", str(out), "--check"])

    assert stale.exit_code == 1
    assert "out of date" in stale.output
    assert written.exit_code == 0
    assert fresh.exit_code == 0

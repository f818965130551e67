"""The chat evaluation set answered through the real pipeline must reach the 90 % target."""

from __future__ import annotations

import json
from pathlib import Path

from bench.chat_eval import CASES, TARGET, report, run_with_curated_catalog


def test_evaluation_set_is_substantial_and_bilingual() -> None:
    cases = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines()]
    languages = {c["language"] for c in cases}
    assert len(cases) >= 60
    assert languages == {"ja", "en"}
    assert sum(1 for c in cases if c["history"]) >= 3  # multi-turn follow-ups are covered


async def test_accuracy_reaches_the_target(tmp_path: Path) -> None:
    verdicts = await run_with_curated_catalog(tmp_path)
    accuracy = sum(v.correct for v in verdicts) / len(verdicts)
    assert accuracy >= TARGET, report(verdicts)

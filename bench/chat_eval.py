"""Chat evaluation: intent, products and genre/mood of answers to the messages of
``bench/data/chat_eval.jsonl``, through the real pipeline (sessions included).

``python -m bench.chat_eval`` prints the accuracy and writes a section to bench/RESULTS.md;
``tests/integration/test_chat_eval.py`` fails the build below the 90 % target.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mangaassist.bootstrap import Container, build
from mangaassist.catalog.loader import BUILTIN_CATALOG, parse_catalog
from mangaassist.chat.answer import ChatAnswer, ChatQuestion
from mangaassist.settings import Settings

CASES = Path(__file__).with_name("data") / "chat_eval.jsonl"
TARGET = 0.90


@dataclass(frozen=True)
class Verdict:
    """One case, the answer it got, and what was wrong (empty when right)."""

    case: dict[str, Any]
    intent: str
    language: str
    titles: tuple[str, ...]
    problems: tuple[str, ...]

    @property
    def correct(self) -> bool:
        return not self.problems


def judge(case: dict[str, Any], answer: ChatAnswer) -> Verdict:
    """Compare an answer with the case's expectations."""
    titles = tuple(p.title_ja for p in answer.products)
    problems: list[str] = []
    if answer.intent != case["intent"]:
        problems.append(f"intent {answer.intent}")
    if answer.language != case["language"]:
        problems.append(f"language {answer.language}")
    if case.get("products") and not set(case["products"]) & set(titles):
        problems.append("expected product missing")
    if case.get("genre") and (not titles or any(p.genre != case["genre"] for p in answer.products)):
        problems.append("genre")
    if case.get("tag") and (not titles or any(case["tag"] not in p.tags for p in answer.products)):
        problems.append("tag")
    if set(case.get("excludeProducts", ())) & set(titles):
        problems.append("excluded product shown")
    return Verdict(case, answer.intent, answer.language, titles, tuple(problems))


async def evaluate(container: Container) -> list[Verdict]:
    """Run every case in its own conversation (history first)."""
    verdicts: list[Verdict] = []
    for line in CASES.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        session: str | None = None
        for earlier in case["history"]:
            session = (await container.chat.answer(ChatQuestion(earlier, session))).session_id
        answer = await container.chat.answer(ChatQuestion(case["message"], session))
        verdicts.append(judge(case, answer))
    return verdicts


async def run_with_curated_catalog(store_dir: Path) -> list[Verdict]:
    """Evaluate on a fresh SQLite store loaded with the curated catalog."""
    container = build(Settings(store_url=f"sqlite:///{store_dir / 'eval.db'}"))
    await container.start()
    try:
        await container.catalog.upsert(parse_catalog(BUILTIN_CATALOG).records)
        return await evaluate(container)
    finally:
        await container.close()


def report(verdicts: list[Verdict]) -> str:
    """Accuracy overall, per language and per intent, and every miss."""
    right = sum(v.correct for v in verdicts)
    by_lang = Counter(v.case["language"] for v in verdicts)
    right_lang = Counter(v.case["language"] for v in verdicts if v.correct)
    by_intent = Counter(v.case["intent"] for v in verdicts)
    right_intent = Counter(v.case["intent"] for v in verdicts if v.correct)
    lines = [
        f"## Chat evaluation: {right}/{len(verdicts)} correct ({right / len(verdicts):.1%}), "
        f"target {TARGET:.0%}",
        "",
        "Command: `python -m bench.chat_eval` (offline model, curated catalog; a case is correct "
        "when intent, language and the expected products / genre / mood all match)",
        "",
        "| slice | correct |",
        "|---|---|",
        *(f"| {lang} | {right_lang[lang]}/{n} |" for lang, n in sorted(by_lang.items())),
        *(f"| {intent} | {right_intent[intent]}/{n} |" for intent, n in sorted(by_intent.items())),
        "",
    ]
    misses = [v for v in verdicts if not v.correct]
    if misses:
        lines += ["Misses:", ""]
        lines += [
            f"- `{v.case['id']}` {v.case['message']!r}: {', '.join(v.problems)} "
            f"(got {v.intent}, {list(v.titles)})"
            for v in misses
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    from bench.results import record_section

    with tempfile.TemporaryDirectory() as home:
        text = report(asyncio.run(run_with_curated_catalog(Path(home))))
    print(text)
    record_section("## Chat evaluation", text)


if __name__ == "__main__":
    main()

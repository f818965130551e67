"""Keeps ``bench/RESULTS.md``: each benchmark owns one section and replaces only that."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = "# Benchmark results\n\nEach section names the command that produced it.\n\n"


def record_section(heading_prefix: str, section: str) -> None:
    """Replace the section whose heading starts with ``heading_prefix`` (or append it)."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else HEADER
    parts = text.split("\n## ")
    head, sections = parts[0], ["## " + p for p in parts[1:]]
    kept = [s.rstrip("\n") + "\n" for s in sections if not s.startswith(heading_prefix)]
    body = "\n".join([*kept, section.rstrip("\n") + "\n"])
    RESULTS.write_text(head.rstrip("\n") + "\n\n" + body, encoding="utf-8")

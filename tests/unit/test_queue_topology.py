"""The default queue topology and topology files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mangaassist.queues.topology import DAY, DEFAULT_TOPOLOGY, load_topology


def test_default_topology_is_the_design_documents() -> None:
    by_name = {q.name: q for q in DEFAULT_TOPOLOGY}
    assert by_name["manga-fm-high-priority"].visibility_timeout_s == 60
    assert by_name["manga-fm-high-priority"].retention_s == 4 * DAY
    assert by_name["manga-fm-normal"].visibility_timeout_s == 120
    assert by_name["manga-fm-low-priority"].retention_s == 14 * DAY
    assert by_name["manga-enrichment-queue.fifo"].visibility_timeout_s == 300
    assert by_name["manga-fm-session.fifo"].fifo
    for name in ("manga-fm-dlq", "manga-fm-dlq.fifo"):
        assert by_name[name].retention_s == 14 * DAY
        assert by_name[name].redrive is None
    for queue in DEFAULT_TOPOLOGY:
        if queue.name == "manga-deliveries":
            # Event targets' retry policies decide (up to 185 retries); the redrive is a backstop.
            assert queue.redrive is not None
            assert queue.redrive.max_receive_count > 186
            assert queue.redrive.dead_letter == "manga-deliveries-dlq"
        elif queue.redrive is not None:
            assert queue.redrive.max_receive_count == 3
            assert queue.redrive.dead_letter == (
                "manga-fm-dlq.fifo" if queue.fifo else "manga-fm-dlq"
            )


def test_no_file_means_the_default(tmp_path: Path) -> None:
    assert load_topology(None) == DEFAULT_TOPOLOGY


def test_a_file_replaces_the_topology(tmp_path: Path) -> None:
    path = tmp_path / "queues.json"
    path.write_text(
        json.dumps(
            {
                "queues": [
                    {"name": "dead", "retentionS": 100},
                    {"name": "work", "visibilityTimeoutS": 5,
                     "redrive": {"deadLetter": "dead", "maxReceiveCount": 2}},
                ]
            }
        ),
        encoding="utf-8",
    )  # fmt: skip
    queues = load_topology(path)
    assert [q.name for q in queues] == ["dead", "work"]
    assert queues[1].redrive is not None
    assert queues[1].redrive.max_receive_count == 2


@pytest.mark.parametrize(
    "queues",
    [
        [{"name": "work", "redrive": {"deadLetter": "missing"}}],
        [{"name": "dlq.fifo"}, {"name": "work", "redrive": {"deadLetter": "dlq.fifo"}}],
    ],
)
def test_inconsistent_files_are_refused(tmp_path: Path, queues: list[dict[str, object]]) -> None:
    path = tmp_path / "queues.json"
    path.write_text(json.dumps({"queues": queues}), encoding="utf-8")
    with pytest.raises(ValueError, match="dead-letter"):
        load_topology(path)

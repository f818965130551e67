"""The moderators' inbox: the ``moderation_case`` job keeps every flagged case in a file.

The ModerationFlagged rule sends ``high`` and ``critical`` flags to the ``manga-moderation``
queue as this job. It appends one JSON line per case to ``moderation-cases.jsonl`` (beside a
SQLite store, else in ``var/``) through the analytics sink's writer with ``fsync`` on: the job
succeeds only once the case is on disk, and a write that fails (a full disk) retries the job,
then dead-letters it with the reason, so nothing flagged is lost. A redelivered job may append a
case twice; ``read_cases`` drops repeated event ids.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from mangaassist.events.analytics import JsonLinesWriter, received_at
from mangaassist.events.envelope import format_time
from mangaassist.jobs.event_payload import AI_SOURCE, event_of, optional_text, required_text
from mangaassist.queues.worker import Job, PermanentError, TransientError

__all__ = [
    "CASES_FILE",
    "MODERATION_CASE_JOB",
    "MODERATION_CASE_TIMEOUT_S",
    "MODERATION_QUEUE",
    "ModerationCaseJob",
    "read_cases",
]

log = structlog.get_logger("mangaassist.jobs")

#: Job kind of the ModerationFlagged rule's queue target, and its queue.
MODERATION_CASE_JOB = "moderation_case"
MODERATION_QUEUE = "manga-moderation"
#: One appended line and an fsync.
MODERATION_CASE_TIMEOUT_S = 15.0
#: The inbox's file name in the data folder.
CASES_FILE = "moderation-cases.jsonl"
_SEVERITIES = frozenset({"low", "medium", "high", "critical"})


class ModerationCaseJob:
    """Runs ``moderation_case`` jobs: one flagged case in, one line in the inbox out."""

    def __init__(
        self, path: Path, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.writer = JsonLinesWriter(path, fsync=True)
        self._clock = clock

    @property
    def path(self) -> Path:
        """The inbox file."""
        return self.writer.path

    async def __call__(self, job: Job) -> None:
        flag = event_of(job, AI_SOURCE, "ModerationFlagged")
        detail = flag.detail
        severity = detail.get("severity")
        categories = detail.get("categories")
        if severity not in _SEVERITIES or not isinstance(categories, list):
            raise PermanentError(f"ModerationFlagged {flag.id}: no severity or categories")
        case: dict[str, Any] = {
            "eventId": flag.id,
            "subjectType": required_text(flag, "subjectType"),
            "subjectId": required_text(flag, "subjectId"),
            "productId": optional_text(flag, "productId"),
            "severity": severity,
            "categories": [str(category) for category in categories],
            "excerpt": str(detail.get("excerpt", ""))[:500],
            "flaggedAt": format_time(flag.time),
            "receivedAt": received_at(self._clock()),
        }
        try:
            await self.writer.append(case)
        except OSError as exc:
            raise TransientError(f"{MODERATION_CASE_JOB}: could not keep the case: {exc}") from exc
        log.info(
            "moderation_case_kept", event_id=flag.id, subject_id=case["subjectId"],
            severity=severity,
        )  # fmt: skip

    async def close(self) -> None:
        """Wait for cases being written."""
        await self.writer.close()


def read_cases(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """The cases of an inbox file, oldest first, each event id once (the first copy kept);
    ``limit``: only the newest that many. A line that is not JSON (torn by a crash) is skipped;
    a missing file has no cases."""
    if limit is not None and limit <= 0:
        return []
    seen: set[str] = set()
    cases: deque[dict[str, Any]] = deque(maxlen=limit)
    try:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    case = json.loads(line)
                except ValueError:
                    continue
                key = str(case.get("eventId")) if isinstance(case, dict) else None
                if key is None or key in seen:
                    continue
                seen.add(key)
                cases.append(case)
    except FileNotFoundError:
        return []
    return list(cases)

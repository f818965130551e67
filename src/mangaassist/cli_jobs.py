"""``mangaassist worker`` and ``mangaassist dlq``: run jobs, and look after the dead letters."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from mangaassist.bootstrap import Container
from mangaassist.cli_support import with_container
from mangaassist.observability.logging import configure_logging
from mangaassist.queues.dead_letters import DeadLetter, DeadLetterFilter, DeadLetters
from mangaassist.queues.runtime import background_jobs
from mangaassist.settings import Settings

__all__ = ["dlq_app", "parse_duration", "worker"]

T = TypeVar("T")

dlq_app = typer.Typer(
    help="Dead-letter queues: list, show, redrive and purge failed jobs.", no_args_is_help=True
)
console = Console()
errors = Console(stderr=True)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``5m``, ``2h`` or ``3d`` in seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise typer.BadParameter(f"{text!r} is not a duration like 90s, 5m, 2h or 3d")
    return float(match[1]) * _UNITS[match[2] or "s"]


def worker(
    queues: Annotated[
        str | None,
        typer.Option(help="Comma-separated queues (default: MANGAASSIST_WORKER_QUEUES)."),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Jobs at a time (default: the setting).")
    ] = None,
) -> None:
    """Run jobs until SIGTERM or Ctrl-C, then drain: in-flight jobs finish, nothing is lost."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    chosen = [name.strip() for name in queues.split(",") if name.strip()] if queues else None

    async def work(container: Container) -> None:
        known = await container.queues.list_queues()
        missing = sorted(set(chosen or []) - set(known))
        if missing:
            errors.print(f"[red]unknown queues:[/red] {', '.join(missing)}")
            raise typer.Exit(2)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        async with background_jobs(container, worker=True, queues=chosen, concurrency=concurrency):
            await stop.wait()
            errors.print("draining: finishing the jobs in hand…")

    with_container(work)


# -- dlq -----------------------------------------------------------------------------------------

QueueOption = Annotated[
    str | None, typer.Option("--queue", help="Dead-letter queue (default: every one).")
]
KindOption = Annotated[str | None, typer.Option(help="Only jobs of this kind.")]
FailureOption = Annotated[
    str | None,
    typer.Option(help="Only this failure class: permanent, transient, throttled, timeout, "
                 "max_receives."),
]  # fmt: skip
OlderOption = Annotated[
    str | None, typer.Option("--older-than", help="Only messages older than this (e.g. 1h).")
]
NewerOption = Annotated[
    str | None, typer.Option("--newer-than", help="Only messages newer than this (e.g. 30m).")
]


def _filter(
    kind: str | None,
    failure: str | None,
    older_than: str | None,
    newer_than: str | None,
    message_ids: frozenset[str] | None = None,
) -> DeadLetterFilter:
    return DeadLetterFilter(
        kind=kind,
        failure=failure,
        older_than_s=parse_duration(older_than) if older_than else None,
        newer_than_s=parse_duration(newer_than) if newer_than else None,
        message_ids=message_ids,
    )


def _dead_letter_queues(container: Container, chosen: str | None) -> list[str]:
    dead = sorted({q.redrive.dead_letter for q in container.topology if q.redrive is not None})
    if chosen is None:
        return dead
    return [chosen]


def _age(seconds: float) -> str:
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def _as_json(letter: DeadLetter, now: float) -> str:
    return json.dumps(
        {
            "messageId": letter.message_id,
            "queue": letter.queue,
            "kind": letter.kind,
            "failure": letter.failure,
            "reason": letter.reason,
            "source": letter.source,
            "ageS": round(letter.age_s(now), 1),
            "sentAt": letter.sent_at.isoformat(),
            "receives": letter.receives,
            "groupId": letter.group_id,
            "attributes": dict(letter.attributes),
            "body": letter.body,
        },
        ensure_ascii=False,
    )


@dlq_app.command("list")
def dlq_list(
    queue: QueueOption = None,
    kind: KindOption = None,
    failure: FailureOption = None,
    older_than: OlderOption = None,
    newer_than: NewerOption = None,
    limit: Annotated[int, typer.Option(min=1, help="Most messages shown per queue.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List failed jobs with their kind, failure class, reason and age."""
    where = _filter(kind, failure, older_than, newer_than)

    async def work(container: Container) -> list[DeadLetter]:
        letters = DeadLetters(container.queues)
        found: list[DeadLetter] = []
        for name in _dead_letter_queues(container, queue):
            found += await letters.find(name, where, limit=limit)
        return found

    found = with_container(work)
    now = time.time()
    if as_json:
        for letter in found:
            print(_as_json(letter, now))
        return
    table = Table("message id", "queue", "kind", "failure", "age", "source", "reason")
    for letter in found:
        table.add_row(
            letter.message_id, letter.queue, letter.kind, letter.failure,
            _age(letter.age_s(now)), letter.source or "?", letter.reason[:80],
        )  # fmt: skip
    console.print(table)
    console.print(f"{len(found)} dead letter(s)")


@dlq_app.command("show")
def dlq_show(
    message_id: Annotated[str, typer.Argument(help="The message id from `dlq list`.")],
    queue: QueueOption = None,
) -> None:
    """Show one failed job whole: body, attributes and reason (JSON)."""

    async def work(container: Container) -> list[DeadLetter]:
        letters = DeadLetters(container.queues)
        where = DeadLetterFilter(message_ids=frozenset({message_id}))
        for name in _dead_letter_queues(container, queue):
            if found := await letters.find(name, where, limit=1):
                return found
        return []

    found = with_container(work)
    if not found:
        errors.print(f"no dead letter {message_id!r}")
        raise typer.Exit(1)
    print(_as_json(found[0], time.time()))


@dlq_app.command("redrive")
def dlq_redrive(
    queue: QueueOption = None,
    to: Annotated[
        str | None, typer.Option(help="Send to this queue (default: where each came from).")
    ] = None,
    kind: KindOption = None,
    failure: FailureOption = None,
    older_than: OlderOption = None,
    newer_than: NewerOption = None,
    message_id: Annotated[
        list[str] | None, typer.Option("--id", help="Only these message ids (repeatable).")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Move at most this many.")] = None,
) -> None:
    """Send failed jobs back to be tried again, as they were first sent."""
    where = _filter(kind, failure, older_than, newer_than, frozenset(message_id or ()) or None)

    async def work(container: Container) -> dict[str, int]:
        letters = DeadLetters(container.queues)
        moved: dict[str, int] = {}
        for name in _dead_letter_queues(container, queue):
            for target, count in (await letters.redrive(name, where, to=to, limit=limit)).items():
                moved[target] = moved.get(target, 0) + count
        return moved

    moved = with_container(work)
    for target, count in sorted(moved.items()):
        console.print(f"{count} → {target}")
    console.print(f"{sum(moved.values())} message(s) redriven")


@dlq_app.command("purge")
def dlq_purge(
    queue: QueueOption = None,
    kind: KindOption = None,
    failure: FailureOption = None,
    older_than: OlderOption = None,
    newer_than: NewerOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete failed jobs for good (all of a queue, or those matching the filters)."""
    where = _filter(kind, failure, older_than, newer_than)
    if not yes:
        typer.confirm("Delete these dead letters for good?", abort=True)

    async def work(container: Container) -> list[tuple[str, int | None]]:
        letters = DeadLetters(container.queues)
        return [
            (name, await letters.purge(name, where))
            for name in _dead_letter_queues(container, queue)
        ]

    for name, count in with_container(work):
        console.print(f"{name}: {'purged' if count is None else f'{count} deleted'}")

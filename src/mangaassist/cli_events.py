"""``mangaassist events``: rules in force, pattern tests, archive replays, webhook endpoints."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mangaassist.bootstrap import Container
from mangaassist.cli_jobs import parse_duration
from mangaassist.cli_support import with_container
from mangaassist.events.patterns import InvalidEventPattern, matches

__all__ = ["events_app", "parse_moment"]

events_app = typer.Typer(
    help="The event bus: rules, pattern tests, archive replays, webhook endpoints.",
    no_args_is_help=True,
)
console = Console()
errors = Console(stderr=True)


def parse_moment(text: str, *, now: datetime | None = None) -> datetime:
    """An ISO 8601 time (``2026-11-22T09:00:00Z``; no offset means UTC) or a duration ago
    (``2h``, ``3d``)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return (now or datetime.now(UTC)) - timedelta(seconds=parse_duration(text))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _json_argument(text: str) -> Any:
    """Inline JSON, or ``@file.json``."""
    raw = Path(text[1:]).read_text(encoding="utf-8") if text.startswith("@") else text
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise typer.BadParameter(f"not JSON: {exc}") from None


@events_app.command("replay")
def replay(
    start: Annotated[str, typer.Option("--from", help="Start: ISO 8601 time or `2h` ago.")],
    end: Annotated[str, typer.Option("--to", help="End (excluded): ISO time or `10m` ago.")],
    rule: Annotated[
        list[str] | None, typer.Option("--rule", help="Only this rule (repeatable).")
    ] = None,
    archive: Annotated[str, typer.Option(help="Archive to read.")] = "mangaassist-archive",
    name: Annotated[str | None, typer.Option(help="Replay name (default: generated).")] = None,
) -> None:
    """Re-deliver archived events of [--from, --to) to the rules, marked as replays."""
    first, last = parse_moment(start), parse_moment(end)
    if last <= first:
        raise typer.BadParameter("--to must be after --from")

    async def work(container: Container) -> None:
        if container.replayer is None:
            errors.print("replays of an EventBridge bus run in AWS (StartReplay)")
            raise typer.Exit(2)
        unknown = sorted(set(rule or []) - set(container.rulebook.current().rules))
        if unknown:
            errors.print(f"[red]unknown rules:[/red] {', '.join(unknown)}")
            raise typer.Exit(2)
        archives = container.replayer.archive_names()
        if archive not in archives:
            errors.print(f"[red]unknown archive:[/red] {archive} (known: {', '.join(archives)})")
            raise typer.Exit(2)
        report = await container.replayer.replay(archive, first, last, rules=rule, name=name)
        console.print(
            f"replay [bold]{report.name}[/bold]: {report.events} events, "
            f"{report.deliveries} deliveries ({first.isoformat()} to {last.isoformat()})"
        )

    with_container(work)


@events_app.command("rules")
def rules() -> None:
    """The rules in force: built-in, from the rules file, and saved through the admin API."""

    async def work(container: Container) -> None:
        table = Table("rule", "origin", "state", "targets", "pattern")
        for rule in sorted(container.rulebook.current().rules.values(), key=lambda r: r.name):
            table.add_row(
                rule.name,
                rule.origin,
                "enabled" if rule.enabled else "disabled",
                ", ".join(f"{t.id}→{t.kind.value}:{t.destination}" for t in rule.targets),
                json.dumps(dict(rule.pattern), ensure_ascii=False),
            )
        console.print(table)

    with_container(work)


@events_app.command("test-pattern")
def test_pattern(
    pattern: Annotated[str, typer.Argument(help="Event pattern: JSON or @file.json.")],
    event: Annotated[str, typer.Argument(help="Event: JSON or @file.json.")],
) -> None:
    """Whether the pattern matches the event (exit 0 yes, 1 no, 2 invalid pattern)."""
    try:
        result = matches(_json_argument(pattern), _json_argument(event))
    except InvalidEventPattern as exc:
        errors.print(f"[red]invalid pattern:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print("match" if result else "no match")
    raise typer.Exit(0 if result else 1)


@events_app.command("endpoints")
def endpoints(
    enable: Annotated[str | None, typer.Option(help="Re-enable this disabled URL.")] = None,
) -> None:
    """Outbound webhook endpoints that failed, and which are disabled."""

    async def work(container: Container) -> None:
        if enable is not None:
            if not await container.store.enable_endpoint(enable):
                errors.print(f"{enable} is not disabled")
                raise typer.Exit(1)
            console.print(f"re-enabled {enable}")
            return
        table = Table("url", "failing since", "failures", "last error", "disabled at")
        for health in await container.store.list_endpoints():
            table.add_row(
                health.url,
                str(health.failing_since or "-"),
                str(health.failures),
                health.last_error or "",
                str(health.disabled_at or "-"),
            )
        console.print(table)

    with_container(work)

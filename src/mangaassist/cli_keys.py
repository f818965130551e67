"""``mangaassist keys``: partner API keys. The secret is printed once, by ``create``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mangaassist.access.keys import parse_key
from mangaassist.api.access_schemas import (
    DEFAULT_PLAN,
    MAX_KEY_NAME_LENGTH,
    ApiKeyCreated,
    ApiKeyView,
)
from mangaassist.bootstrap import Container
from mangaassist.cli_support import with_container
from mangaassist.settings import Settings

__all__ = ["keys_app"]

keys_app = typer.Typer(
    help="Partner API keys: create (shown once), list, revoke.", no_args_is_help=True
)
console = Console()
errors = Console(stderr=True)

#: Printed on stderr with every new key: the store keeps only its hash.
SHOWN_ONCE = "Store this key now: it is not shown again (only its hash is kept)."


def _json(value: Any) -> None:
    # Plain print, not rich: a key must never be wrapped or coloured when piped or copied.
    typer.echo(json.dumps(value, ensure_ascii=False))


def _when(moment: datetime | None) -> str:
    """To the minute, in UTC: what a table has room for (``--json`` gives exact times)."""
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="Who or what the key is for, shown in listings.")],
    plan: Annotated[str, typer.Option(help="Usage plan, one of access_plans.")] = DEFAULT_PLAN,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Issue a key and print it once (its hash is all the store keeps)."""
    name = name.strip()
    if not 1 <= len(name) <= MAX_KEY_NAME_LENGTH:
        raise typer.BadParameter(
            f"must be 1 to {MAX_KEY_NAME_LENGTH} characters", param_hint="--name"
        )
    settings = Settings()
    if plan not in settings.access_plans:
        known = ", ".join(sorted(settings.access_plans))
        errors.print(f"[red]unknown plan:[/red] {plan} (known plans: {known})", highlight=False)
        raise typer.Exit(2)

    async def work(container: Container) -> None:
        record, issued = await container.keys.create(name, plan)
        if as_json:
            _json(ApiKeyCreated.of(record, issued).model_dump(by_alias=True, mode="json"))
        else:
            console.print(
                f"Created key [bold]{record.prefix}[/bold] for {record.name} (plan {record.plan}):",
                highlight=False,
            )
            typer.echo(issued.api_key)
        errors.print(f"[yellow]{SHOWN_ONCE}[/yellow]")

    with_container(work, settings)


@keys_app.command("list")
def list_keys(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Every key, oldest first, revoked ones included (prefixes only, never secrets)."""

    async def work(container: Container) -> None:
        records = await container.keys.list()
        if as_json:
            _json([ApiKeyView.of(r).model_dump(by_alias=True, mode="json") for r in records])
            return
        table = Table(caption="times in UTC")
        for heading in ("prefix", "name", "plan", "created", "last used", "status"):
            # Only names wrap: a prefix is copied whole into `keys revoke`.
            table.add_column(heading, no_wrap=heading != "name")
        for record in records:
            table.add_row(
                record.prefix,
                record.name,
                record.plan,
                _when(record.created_at),
                _when(record.last_used_at),
                "active" if record.active else "revoked",
            )
        console.print(table)

    with_container(work)


@keys_app.command("revoke")
def revoke(
    prefix_or_key: Annotated[
        str, typer.Argument(metavar="PREFIX_OR_KEY", help="The key's prefix, or the whole key.")
    ],
) -> None:
    """Revoke a key for good; it stops authenticating at once."""
    parsed = parse_key(prefix_or_key)
    prefix = parsed[0] if parsed is not None else prefix_or_key.strip().lower()

    async def work(container: Container) -> None:
        before = await container.keys.lookup_by_prefix(prefix)
        record = None if before is None else await container.keys.revoke(prefix)
        if before is None or record is None:
            # Only the prefix is echoed: a whole key given here is a secret.
            errors.print(f"[red]no API key has the prefix[/red] {prefix}", highlight=False)
            raise typer.Exit(1)
        done = "was already revoked" if not before.active else f"({record.name}) revoked"
        console.print(f"{prefix} {done} at {_when(record.revoked_at)} UTC", highlight=False)

    with_container(work)

"""What every ``mangaassist`` command that needs the adapters shares: a started container."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console

from mangaassist.bootstrap import Container, build
from mangaassist.queues.base import QueueError
from mangaassist.settings import Settings

__all__ = ["with_container"]

T = TypeVar("T")
errors = Console(stderr=True)


def with_container(
    work: Callable[[Container], Awaitable[T]], settings: Settings | None = None
) -> T:
    """Run ``work`` on a started container and close it after; a queue refusing a request
    (an unknown queue, say) ends the command with its code and exit status 2."""

    async def run() -> T:
        container = build(settings or Settings())
        await container.start()
        try:
            return await work(container)
        finally:
            await container.close()

    try:
        return asyncio.run(run())
    except QueueError as exc:
        errors.print(f"[red]{exc.code}[/red] {exc}")
        raise typer.Exit(2) from None

"""The ``mangaassist`` command: serve the API, manage the catalog, export the OpenAPI contract."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mangaassist.bootstrap import Container
from mangaassist.catalog.index import SearchFilters
from mangaassist.catalog.loader import BUILTIN_CATALOG, parse_catalog
from mangaassist.cli_enrich import catalog_enrich
from mangaassist.cli_events import events_app
from mangaassist.cli_jobs import dlq_app, worker
from mangaassist.cli_keys import keys_app
from mangaassist.cli_models import models_app
from mangaassist.cli_support import with_container
from mangaassist.domain.catalog import Genre
from mangaassist.settings import Settings
from mangaassist.text.romaji import romanize

__all__ = ["app", "main"]

T = TypeVar("T")

app = typer.Typer(
    help="MangaAssist: AI shop assistant for a Japanese manga store.", no_args_is_help=True
)
catalog_app = typer.Typer(help="Load, search and generate the catalog.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
console = Console()
errors = Console(stderr=True)

#: Bad lines listed before the rest are only counted.
MAX_ERRORS_SHOWN = 20


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=False,
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
) -> None:
    """Serve the API (default http://127.0.0.1:8000)."""
    import uvicorn

    settings = Settings()
    worker_count = workers or settings.workers
    if worker_count > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="mangaassist-metrics-")
    uvicorn.run(
        "mangaassist.api.app:create_app_from_env",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=worker_count,
        log_config=None,
        access_log=False,
        ws_max_size=settings.ws_max_frame_bytes,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


@app.command()
def chat(
    language: Annotated[
        str, typer.Option(help="Answer language: ja, en or auto (from each message).")
    ] = "auto",
) -> None:
    """Chat with the assistant in the terminal (the same pipeline as POST /v1/chat)."""
    from mangaassist.chat.answer import ChatQuestion
    from mangaassist.text.validate import MessageRejected

    async def run(container: Container) -> None:
        session_id: str | None = None
        console.print("MangaAssist — 何でも聞いてください / ask me anything (Ctrl-D to quit)")
        while True:
            try:
                line = await asyncio.to_thread(console.input, "[bold]> [/bold]")
            except (EOFError, KeyboardInterrupt):
                console.print()
                return
            if not line.strip():
                continue
            try:
                answer = await container.chat.answer(
                    ChatQuestion(line, session_id=session_id, preferred_language=language)
                )
            except MessageRejected as exc:
                errors.print(f"[red]{exc.code}[/red] {exc.params or ''}")
                continue
            session_id = answer.session_id
            for delta in answer.deltas or (answer.text,):
                console.print(delta, end="", highlight=False, markup=False)
            console.print()
            console.print(
                f"[dim]{answer.intent} · {answer.model} · {answer.latency_ms} ms"
                f"{' · cached' if answer.cached else ''}[/dim]"
            )

    with_container(run)


@catalog_app.command("load")
def catalog_load(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="JSON Lines or CSV file; the curated catalog when omitted.", exists=True
        ),
    ] = None,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Load only when the catalog has no series.")
    ] = False,
) -> None:
    """Validate a catalog file whole, then upsert it in one transaction."""
    path = file or BUILTIN_CATALOG

    async def load(container: Container) -> None:
        if if_empty and await container.store.count_series() > 0:
            console.print("The catalog already has series; nothing loaded (--if-empty).")
            return
        parsed = parse_catalog(path, romanize)
        if parsed.errors:
            for error in parsed.errors[:MAX_ERRORS_SHOWN]:
                errors.print(f"[red]{path}: {error}[/red]", highlight=False)
            hidden = len(parsed.errors) - MAX_ERRORS_SHOWN
            if hidden > 0:
                errors.print(f"... and {hidden} more errors")
            errors.print(f"{len(parsed.errors)} invalid lines in {path}; nothing was loaded.")
            raise typer.Exit(1)
        with _progress() as progress:
            task = progress.add_task("Loading series", total=len(parsed.records))
            counts = await container.catalog.upsert(
                parsed.records, on_batch=lambda n: progress.advance(task, n)
            )
        version = await container.store.catalog_version()
        console.print(
            f"Loaded {len(parsed.records)} series from {path}: {counts.inserted} new, "
            f"{counts.updated} updated, {counts.unchanged} unchanged (catalog version {version})."
        )

    with_container(load)


@catalog_app.command("search")
def catalog_search(
    query: Annotated[str, typer.Argument(help="Words in Japanese, romaji or English.")],
    genre: Annotated[Genre | None, typer.Option(help="Only this genre.")] = None,
    in_stock: Annotated[
        bool | None, typer.Option("--in-stock/--sold-out", help="Only in stock / sold out.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Results to show.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Search the catalog as the API does."""

    async def run(container: Container) -> None:
        result = await container.catalog.search(query, SearchFilters(genre, in_stock), limit)
        if as_json:
            rows = [
                {"id": h.record.id, "title": h.record.title, "score": h.score} for h in result.hits
            ]
            console.print_json(json.dumps({"total": result.total, "results": rows}))
            return
        table = Table(title=f"{query} — {result.total} matches")
        for column in ("id", "title", "titleJa", "author", "genre", "¥", "stock", "score"):
            table.add_column(column)
        for hit in result.hits:
            r = hit.record
            table.add_row(
                r.id, r.title, r.title_ja, r.author_ja, r.genre, str(r.price_jpy),
                str(r.stock), f"{hit.score:.2f}",
            )  # fmt: skip
        console.print(table)
        if result.corrections:
            console.print(f"Corrected: {result.corrections}")

    with_container(run)


@catalog_app.command("generate")
def catalog_generate(
    count: Annotated[int, typer.Option(min=1, help="Series to generate.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same file.")] = 0,
    out: Annotated[Path, typer.Option(help="Output JSON Lines file.")] = Path(
        "var/generated-catalog.jsonl"
    ),
) -> None:
    """Write a synthetic catalog of plausible titles for scale tests."""
    from mangaassist.catalog.generate import generate_records, write_jsonl

    out.parent.mkdir(parents=True, exist_ok=True)
    written = write_jsonl(generate_records(count, seed), out)
    console.print(f"Wrote {written} synthetic series to {out}.")


@app.command()
def openapi(
    out: Annotated[Path, typer.Option(help="Where to write the document.")] = Path("openapi.json"),
    check: Annotated[
        bool, typer.Option("--check", help="Fail if the file differs instead of writing it.")
    ] = False,
) -> None:
    """Write (or check) the OpenAPI document generated from the API's models."""
    from mangaassist.api.openapi import render_openapi

    text = render_openapi()
    if check:
        if not out.exists() or out.read_text(encoding="utf-8") != text:
            errors.print(f"{out} is out of date: run `mangaassist openapi` (or `make openapi`).")
            raise typer.Exit(1)
        console.print(f"{out} is up to date.")
        return
    out.write_text(text, encoding="utf-8")
    console.print(f"Wrote {out}.")


catalog_app.command("enrich")(catalog_enrich)
app.command()(worker)
app.add_typer(dlq_app, name="dlq")
app.add_typer(events_app, name="events")
app.add_typer(keys_app, name="keys")
app.add_typer(models_app, name="models")


def main() -> None:
    """Entry point of the ``mangaassist`` script."""
    app()

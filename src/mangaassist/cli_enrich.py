"""``mangaassist catalog enrich``: queue enrichment jobs, then show their progress until done."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mangaassist.bootstrap import Container
from mangaassist.catalog.enrichment import ENRICH_JOB, ENRICHMENT_QUEUE, enqueue_enrichment
from mangaassist.catalog.enrichment_run import EnrichmentWait, FailureWatch, wait_for_enrichment
from mangaassist.cli_support import with_container
from mangaassist.observability.logging import configure_logging
from mangaassist.queues.worker import JobRegistry, Worker
from mangaassist.settings import Settings

__all__ = ["EnrichmentKind", "catalog_enrich"]

console = Console()
errors = Console(stderr=True)

#: How long the command waits for its jobs by default.
DEFAULT_TIMEOUT_S = 600.0


class EnrichmentKind(StrEnum):
    """What a model writes for each series."""

    SYNOPSIS = "synopsis"  #: two-paragraph synopsis in Japanese and English
    TAGS = "tags"  #: 5-10 tags in English and Japanese
    RECOMMENDATIONS = "recommendations"  #: 5 catalog series fans would enjoy, with reasons


def _series_ids(raw: list[str]) -> list[str]:
    """Ids given as repeated options or comma-separated, each once, in order."""
    ids = (part.strip() for value in raw for part in value.split(","))
    return list(dict.fromkeys(i for i in ids if i))


async def _targets(container: Container, all_series: bool, ids: list[str]) -> list[str]:
    if all_series == bool(ids):
        errors.print("Give either --all or --ids ID [--ids ID ...].")
        raise typer.Exit(2)
    if all_series:
        targets = [record.id for record in await container.store.list_series()]
        if not targets:
            errors.print("The catalog is empty: run `mangaassist catalog load` first.")
            raise typer.Exit(1)
        return targets
    known = await container.store.get_series_many(ids)
    unknown = [i for i in ids if i not in known]
    if unknown:
        errors.print(f"Not in the catalog: {', '.join(unknown)}; nothing was queued.")
        raise typer.Exit(1)
    return ids


def _own_worker(container: Container, watch: FailureWatch, timeout_s: float) -> Worker:
    registry = JobRegistry()
    registry.register(ENRICH_JOB, watch, timeout_s=timeout_s)
    return Worker(
        container.queues,
        registry,
        [ENRICHMENT_QUEUE],
        concurrency=container.settings.worker_concurrency,
        wait_s=0.5,
        on_outcome=container.queue_metrics.job_outcome,
    )


async def _wait(
    container: Container, job_ids: list[str], kind: str, *, own_worker: bool, timeout_s: float
) -> EnrichmentWait:
    registration = container.jobs.get(ENRICH_JOB)
    assert registration is not None, "bootstrap registers the enrichment handler"
    config = await container.queues.config(ENRICHMENT_QUEUE)
    max_receives = config.redrive.max_receive_count if config.redrive else 1_000_000
    watch = FailureWatch(registration.handler, max_receives)
    worker = _own_worker(container, watch, registration.timeout_s) if own_worker else None
    running = asyncio.create_task(worker.run()) if worker is not None else None
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=errors,
    )  # fmt: skip
    try:
        with progress:
            bar = progress.add_task(f"Enriching ({kind})", total=len(set(job_ids)))
            return await wait_for_enrichment(
                container.store,
                job_ids,
                timeout_s=timeout_s,
                failed=lambda: set(watch.failed),
                on_progress=lambda settled: progress.update(bar, completed=settled),
            )
    finally:
        if worker is not None and running is not None:
            worker.stop()  # in-flight jobs finish; the rest stay queued for any worker
            await running


def _report(wait: EnrichmentWait, kind: str, sent_at: datetime, version: int) -> None:
    total = len(wait.job_ids)
    line = f"Enriched {len(wait.done)} of {total} series ({kind})"
    notes = []
    if wait.raw_text:
        notes.append(f"{wait.raw_text} kept as raw text (the model's answer was not JSON)")
    duplicates = wait.duplicates(sent_at)
    if duplicates:
        notes.append(
            f"{duplicates} already enriched by the same request within the last 5 minutes "
            "(the duplicate was dropped)"
        )
    console.print(f"{line}{': ' + '; '.join(notes) if notes else ''}. Catalog version {version}.")


def catalog_enrich(
    kind: Annotated[EnrichmentKind, typer.Option("--type", help="What to write.")],
    all_series: Annotated[bool, typer.Option("--all", help="Every series of the catalog.")] = False,
    ids: Annotated[
        list[str] | None,
        typer.Option("--ids", help="Series ids; repeat the option or separate them by commas."),
    ] = None,
    own_worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Run jobs in this command while it waits; --no-worker leaves them to a "
            "running `mangaassist serve` or `mangaassist worker`.",
        ),
    ] = True,
    timeout: Annotated[
        float, typer.Option(min=1.0, help="Seconds to wait for the jobs to finish.")
    ] = DEFAULT_TIMEOUT_S,
) -> None:
    """Queue model enrichment jobs (one per series, FIFO, duplicates within 5 minutes dropped)
    and show their progress until every one is stored."""
    settings = Settings()
    configure_logging("warning", settings.log_format)  # job logs would break the progress bar

    async def run(container: Container) -> int:
        targets = await _targets(container, all_series, _series_ids(ids or []))
        sent_at = datetime.now(UTC)
        job_ids = await enqueue_enrichment(container.queues, targets, kind.value, now=sent_at)
        console.print(f"Queued {len(job_ids)} {kind.value} jobs on {ENRICHMENT_QUEUE}.")
        wait = await _wait(container, job_ids, kind.value, own_worker=own_worker, timeout_s=timeout)
        _report(wait, kind.value, sent_at, await container.store.catalog_version())
        return _problems(wait, own_worker=own_worker, timeout_s=timeout)

    code = with_container(run, settings)
    if code:
        raise typer.Exit(code)


def _problems(wait: EnrichmentWait, *, own_worker: bool, timeout_s: float) -> int:
    code = 0
    if wait.failed:
        errors.print(
            f"{len(wait.failed)} jobs failed and went to the dead-letter queue: see "
            "`mangaassist dlq list` for the reasons."
        )
        code = 1
    if wait.timed_out:
        hint = (
            "They finish when a worker runs (`mangaassist serve` or `mangaassist worker`); "
            "this command ran with --no-worker."
            if not own_worker
            else "They stay queued and a worker finishes them later (`mangaassist worker`)."
        )
        errors.print(
            f"Timed out after {timeout_s:g} s: {wait.pending} of {len(wait.job_ids)} jobs are "
            f"not finished yet. {hint}"
        )
        code = 1
    return code

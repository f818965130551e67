"""The event jobs on a real SQLite store with the curated catalog and a recording bus; the
analytics sink and the moderators' inbox on real files; and the whole chain through the
container's bus, queues and worker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from mangaassist.bootstrap import Container, build
from mangaassist.catalog.service import CatalogService
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.events.analytics import AnalyticsSink
from mangaassist.events.envelope import Event
from mangaassist.jobs.event_jobs import EVENT_JOB_KINDS, EventJobs, register_event_jobs
from mangaassist.jobs.event_payload import answer_id
from mangaassist.jobs.moderation import MODERATION_QUEUE, read_cases
from mangaassist.queues.worker import Job, JobRegistry, PermanentError, TransientError, Worker
from mangaassist.settings import Settings
from mangaassist.store.sql import SqlStore
from tests.event_fakes import RecordingBus

pytestmark = pytest.mark.timeout(60)


def _job(kind: str, event: Event, receive_count: int = 1) -> Job:
    payload = event.to_dict()
    return Job(kind, f"{event.id}:rule:target", payload, receive_count, "manga-fm-normal")


def _payment(**detail: Any) -> Event:
    base: dict[str, Any] = {"orderId": "A-1001", "amount": 1144, "currency": "JPY"}
    return Event("PaymentCompleted", {**base, **detail}, source="mangaassist.payments")


def _review(text: str, rating: int | None = 4) -> Event:
    detail: dict[str, Any] = {"reviewId": "R-1", "productId": "MNG-I63T7JQY", "reviewText": text}
    if rating is not None:
        detail["rating"] = rating
    return Event("ReviewSubmitted", detail, source="mangaassist.reviews")


def _titled(curated: list[SeriesRecord], title_ja: str) -> SeriesRecord:
    return next(record for record in curated if record.title_ja == title_ja)


@pytest.fixture
async def catalog(sqlite_store: SqlStore, curated: list[SeriesRecord]) -> CatalogService:
    service = CatalogService(sqlite_store)
    await service.upsert(curated)
    return service


@pytest.fixture
def bus() -> RecordingBus:
    return RecordingBus()


@pytest.fixture
async def event_jobs(
    tmp_path: Path, bus: RecordingBus, catalog: CatalogService
) -> AsyncIterator[tuple[JobRegistry, EventJobs]]:
    registry = JobRegistry()
    built = register_event_jobs(
        registry,
        bus=bus,
        catalog=catalog,
        analytics_path=tmp_path / "data" / "analytics.jsonl",
        cases_path=tmp_path / "data" / "moderation-cases.jsonl",
    )
    yield registry, built
    await built.close()


async def _run(registry: JobRegistry, job: Job) -> None:
    registration = registry.get(job.kind)
    assert registration is not None
    await registration.handler(job)


# -- order_confirmation -------------------------------------------------------------------------


async def test_a_payment_gets_a_japanese_confirmation_naming_its_titles(
    event_jobs: tuple[JobRegistry, EventJobs], bus: RecordingBus, curated: list[SeriesRecord]
) -> None:
    jjk = _titled(curated, "呪術廻戦")
    # Given a payment whose items came as Stripe metadata text, one id unknown to the catalog
    items = json.dumps([{"productId": jjk.id, "quantity": 2}, "MNG-ZZZZZZZZ"])
    payment = _payment(items=items)

    await _run(event_jobs[0], _job("order_confirmation", payment))

    [confirmation] = bus.of_type("OrderConfirmationGenerated")
    detail = confirmation.detail
    assert confirmation.source == "mangaassist.ai"
    assert detail["orderId"] == "A-1001"
    assert detail["language"] == "ja"
    assert "ご注文ありがとうございます。" in detail["message"]
    assert "・『呪術廻戦』 × 2" in detail["message"]
    assert "お支払い金額：¥1,144" in detail["message"]
    assert "MNG-ZZZZZZZZ" in detail["message"]
    assert detail["unknownProductIds"] == ["MNG-ZZZZZZZZ"]
    assert detail["items"][0] == {"productId": jjk.id, "title": "呪術廻戦", "quantity": 2}
    assert detail["amount"] == 1144


async def test_a_redelivered_payment_republishes_the_same_event_id(
    event_jobs: tuple[JobRegistry, EventJobs], bus: RecordingBus
) -> None:
    payment = _payment(language="en-US", items=["MNG-6OHZJBVT"])
    await _run(event_jobs[0], _job("order_confirmation", payment))
    await _run(event_jobs[0], _job("order_confirmation", payment, receive_count=2))

    first, second = bus.of_type("OrderConfirmationGenerated")
    assert first.id == second.id == answer_id("order_confirmation", payment)
    assert first.detail["language"] == "en"
    assert "- One Piece × 1" in first.detail["message"]


@pytest.mark.parametrize(
    "payload",
    [
        {"not": "an event"},
        _review("面白い").to_dict(),  # another type
        Event("PaymentCompleted", {"orderId": "A-1"}, source="someone.else").to_dict(),
        _payment(orderId="").to_dict(),
        _payment(amount="a lot").to_dict(),
    ],
)
async def test_a_payload_that_is_not_a_payment_fails_for_good(
    event_jobs: tuple[JobRegistry, EventJobs], payload: dict[str, Any]
) -> None:
    job = Job("order_confirmation", "j-1", payload, 1, "manga-fm-normal")
    with pytest.raises(PermanentError):
        await _run(event_jobs[0], job)


async def test_a_bus_that_stays_down_retries_the_job(
    event_jobs: tuple[JobRegistry, EventJobs], bus: RecordingBus
) -> None:
    bus.fail_next = 100  # every PutEvents attempt answers InternalFailure
    with pytest.raises(TransientError, match="event bus"):
        await _run(event_jobs[0], _job("order_confirmation", _payment()))


class DownCatalog(CatalogService):
    """The catalog over a store that cannot be read (a locked or unreachable database)."""

    async def get_many(self, series_ids: Any) -> dict[str, SeriesRecord]:
        raise OperationalError("SELECT", {}, Exception("database is locked"))


async def test_a_catalog_outage_retries_the_job(sqlite_store: SqlStore, tmp_path: Path) -> None:
    registry = JobRegistry()
    register_event_jobs(
        registry,
        bus=RecordingBus(),
        catalog=DownCatalog(sqlite_store),
        analytics_path=tmp_path / "a.jsonl",
        cases_path=tmp_path / "c.jsonl",
    )
    with pytest.raises(TransientError, match="catalog lookup failed"):
        await _run(registry, _job("order_confirmation", _payment(items=["MNG-6OHZJBVT"])))


# -- review_moderation and review_sentiment -----------------------------------------------------


async def test_a_review_with_a_phone_number_is_flagged_high(
    event_jobs: tuple[JobRegistry, EventJobs], bus: RecordingBus
) -> None:
    review = _review("面白い！連絡は０９０－１２３４－５６７８まで")
    await _run(event_jobs[0], _job("review_moderation", review))

    [flag] = bus.of_type("ModerationFlagged")
    assert flag.id == answer_id("review_moderation", review)
    assert flag.detail["subjectType"] == "review"
    assert flag.detail["subjectId"] == "R-1"
    assert flag.detail["productId"] == "MNG-I63T7JQY"
    assert flag.detail["severity"] == "high"
    assert flag.detail["categories"] == ["contact_details"]
    assert flag.detail["excerpt"] == review.detail["reviewText"]


async def test_a_clean_review_publishes_no_flag(
    event_jobs: tuple[JobRegistry, EventJobs], bus: RecordingBus
) -> None:
    await _run(event_jobs[0], _job("review_moderation", _review("最高の漫画でした")))
    assert bus.of_type("ModerationFlagged") == []


async def test_every_review_gets_its_sentiment(
    event_jobs: tuple[JobRegistry, EventJobs], bus: RecordingBus
) -> None:
    await _run(event_jobs[0], _job("review_sentiment", _review("面白くなかった", rating=2)))
    await _run(event_jobs[0], _job("review_sentiment", _review("Loved it 😍", rating=None)))

    negative, positive = bus.of_type("ReviewAnalyzed")
    assert negative.detail["sentiment"] == "negative"
    assert negative.detail["rating"] == 2
    assert negative.detail["language"] == "ja"
    assert positive.detail["sentiment"] == "positive"
    assert positive.detail["rating"] is None
    assert -1 <= positive.detail["score"] <= 1


async def test_a_review_without_text_fails_for_good(
    event_jobs: tuple[JobRegistry, EventJobs],
) -> None:
    broken = Event(
        "ReviewSubmitted", {"reviewId": "R-2", "productId": "MNG-X"}, source="mangaassist.reviews"
    )
    for kind in ("review_moderation", "review_sentiment"):
        with pytest.raises(PermanentError, match="reviewText"):
            await _run(event_jobs[0], _job(kind, broken))


# -- moderation_case ----------------------------------------------------------------------------


def _flag(severity: str = "critical", subject: str = "R-9") -> Event:
    detail = {
        "subjectType": "review", "subjectId": subject, "productId": "MNG-I63T7JQY",
        "severity": severity, "categories": ["threat"], "excerpt": "殺してやる",
    }  # fmt: skip
    return Event("ModerationFlagged", detail, source="mangaassist.ai")


async def test_a_flagged_case_is_kept_once_in_the_inbox_even_when_redelivered(
    event_jobs: tuple[JobRegistry, EventJobs],
) -> None:
    registry, built = event_jobs
    flag = _flag()
    await _run(registry, _job("moderation_case", flag))
    await _run(registry, _job("moderation_case", flag, receive_count=2))  # at least once
    await _run(registry, _job("moderation_case", _flag("high", "R-10")))

    raw = built.cases.path.read_text(encoding="utf-8")
    assert raw.count("\n") == 3
    assert "殺してやる" in raw  # Japanese kept as text
    cases = read_cases(built.cases.path)
    assert [case["subjectId"] for case in cases] == ["R-9", "R-10"]
    assert cases[0]["eventId"] == flag.id
    assert cases[0]["severity"] == "critical"
    assert cases[0]["excerpt"] == "殺してやる"
    assert read_cases(built.cases.path, limit=1)[0]["subjectId"] == "R-10"


def test_read_cases_skips_a_torn_line_and_a_missing_file_has_none(tmp_path: Path) -> None:
    inbox = tmp_path / "cases.jsonl"
    assert read_cases(inbox) == []
    inbox.write_text('{"eventId": "e1", "severity": "high"}\n{"eventId": "e2", "sev', "utf-8")
    assert [case["eventId"] for case in read_cases(inbox)] == ["e1"]
    assert read_cases(inbox, limit=0) == []


async def test_an_inbox_that_cannot_be_written_retries_the_job(
    tmp_path: Path, catalog: CatalogService
) -> None:
    registry = JobRegistry()
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    register_event_jobs(
        registry, bus=RecordingBus(), catalog=catalog,
        analytics_path=tmp_path / "a.jsonl", cases_path=blocked,  # a folder: no file there
    )  # fmt: skip
    with pytest.raises(TransientError, match="could not keep the case"):
        await _run(registry, _job("moderation_case", _flag()))


async def test_the_registry_names_every_event_job(
    event_jobs: tuple[JobRegistry, EventJobs],
) -> None:
    assert all(event_jobs[0].get(kind) is not None for kind in EVENT_JOB_KINDS)


# -- the analytics sink -------------------------------------------------------------------------


async def test_the_sink_writes_one_parseable_line_per_event_keeping_japanese(
    tmp_path: Path,
) -> None:
    path = tmp_path / "new" / "folder" / "analytics.jsonl"
    sink = AnalyticsSink(path)
    event = Event(
        "CatalogUpdate.new_release",
        {"productId": "MNG-X", "title": "呪術廻戦"},
        source="mangaassist.catalog",
    )
    await sink.handle(event, None)

    raw = path.read_bytes()
    assert "呪術廻戦".encode() in raw  # UTF-8 text, not \\u escapes
    [line] = raw.decode().splitlines()
    record = json.loads(line)
    assert record["id"] == event.id
    assert record["detail-type"] == "CatalogUpdate.new_release"
    assert record["detail"]["title"] == "呪術廻戦"
    assert record["receivedAt"].endswith("Z")


async def test_concurrent_events_never_interleave(tmp_path: Path) -> None:
    sink = AnalyticsSink(tmp_path / "analytics.jsonl")
    events = [
        Event(
            "ChatMessageReceived",
            {"sessionId": f"s-{i}", "language": "ja", "length": i, "text": "こんにちは" * (i % 50)},
        )
        for i in range(2000)
    ]
    await asyncio.gather(*(sink.handle(event, None) for event in events))

    lines = sink.path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2000
    assert {json.loads(line)["id"] for line in lines} == {event.id for event in events}
    assert sink.writer.lines_written == 2000
    assert sink.writer.batches_written < 2000  # grouped into few writes


async def test_a_line_torn_by_a_crash_spoils_only_itself(tmp_path: Path) -> None:
    path = tmp_path / "analytics.jsonl"
    path.write_text('{"id": "torn', encoding="utf-8")
    sink = AnalyticsSink(path)
    event = Event("ChatMessageReceived", {"sessionId": "s", "language": "en", "length": 1})
    await sink.handle(event, None)
    torn, whole = path.read_text(encoding="utf-8").splitlines()
    assert torn == '{"id": "torn'
    assert json.loads(whole)["id"] == event.id


async def test_a_sink_that_cannot_write_raises_so_the_delivery_is_retried(tmp_path: Path) -> None:
    sink = AnalyticsSink(tmp_path)  # a folder
    with pytest.raises(IsADirectoryError):
        await sink.handle(
            Event("ChatMessageReceived", {"sessionId": "s", "language": "ja", "length": 0}), None
        )


# -- the whole chain through the container ------------------------------------------------------


@pytest.fixture
async def container(tmp_path: Path, curated: list[SeriesRecord]) -> AsyncIterator[Container]:
    built = build(Settings(store_url=f"sqlite:///{tmp_path / 'store.db'}"))
    await built.start()
    await built.catalog.upsert(curated)
    yield built
    await built.close()


async def _drain(container: Container, queues: list[str], seconds: float = 10.0) -> None:
    worker = Worker(container.queues, container.jobs, queues, wait_s=0.05, retry_base_s=0.01)
    task = asyncio.create_task(worker.run())
    try:
        async with asyncio.timeout(seconds):
            while True:
                await asyncio.sleep(0.1)
                states = [await container.queues.attributes(queue) for queue in queues]
                if all(s.visible + s.in_flight + s.delayed == 0 for s in states):
                    break
    finally:
        worker.stop()
        await task


async def test_a_threatening_review_reaches_the_moderators_and_analytics(
    container: Container, tmp_path: Path
) -> None:
    # Given the built-in rules, when a review with a threat is submitted
    review = _review("ネタバレ注意。作者は殺してやる", rating=1)
    await container.events.publish(review)
    # ... and the workers run the review jobs, the flag's delivery, then the moderation case
    await _drain(container, ["manga-fm-normal", MODERATION_QUEUE, "manga-deliveries"])

    # Then the moderators' inbox beside the store holds the case
    [case] = read_cases(tmp_path / "moderation-cases.jsonl")
    assert case["subjectId"] == "R-1"
    assert case["severity"] == "critical"
    assert case["categories"] == ["threat", "spoiler"]
    # And the analytics file beside the store has the review, the flag and the sentiment
    assert container.analytics.path == tmp_path / "analytics.jsonl"
    lines = [json.loads(line) for line in container.analytics.path.read_text("utf-8").splitlines()]
    kinds = {record["detail-type"] for record in lines}
    assert {"ReviewSubmitted", "ModerationFlagged", "ReviewAnalyzed"} <= kinds
    assert any(r["detail"].get("reviewText") == "ネタバレ注意。作者は殺してやる" for r in lines)

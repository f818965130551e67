"""The router: fallbacks, retries within the deadline, breakers, first-token switches and
interrupted streams, with scripted models on the port (the fake servers' tests are in
``tests/integration/test_model_faults.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry

from mangaassist.domain.deadline import Deadline
from mangaassist.llm.base import (
    ModelAuthError,
    ModelInvalidRequest,
    ModelMessage,
    ModelOverloaded,
    ModelRequest,
    ModelThrottled,
)
from mangaassist.llm.breaker import BreakerBoard, BreakerPolicy, BreakerState
from mangaassist.llm.router import (
    AnswerInterrupted,
    ModelRouter,
    RouterPolicy,
    read_timeout_s,
)
from mangaassist.observability.model_metrics import ModelMetrics
from tests.model_fakes import Cut, Hang, ScriptedModel

REQUEST = ModelRequest(system="You are MangaAssist.", messages=(ModelMessage("user", "hi"),))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Rig:
    def __init__(
        self,
        *models: ScriptedModel,
        policy: RouterPolicy | None = None,
        breaker: BreakerPolicy | None = None,
    ) -> None:
        self.clock = Clock()
        self.sleeps: list[float] = []
        self.registry = CollectorRegistry()
        self.metrics = ModelMetrics(self.registry)
        self.offline = ScriptedModel("offline", reply=("From the catalog.",))
        self.breakers = BreakerBoard(
            breaker or BreakerPolicy(failures=3, window_s=30, open_s=10),
            self.clock,
            self.metrics.breaker_changed,
        )

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        self.router = ModelRouter(
            {m.model_id: m for m in models} | {"offline": self.offline},
            self.offline,
            breakers=self.breakers,
            estimate_tokens=len,
            policy=policy or RouterPolicy(first_token_s=0.2, backoff_base_s=0.05),
            metrics=self.metrics,
            jitter=lambda: 0.5,
            sleep=sleep,
        )

    def state(self, model: str) -> BreakerState:
        return self.breakers[model].state

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


async def test_the_first_model_answers_when_it_can() -> None:
    sonnet = ScriptedModel("sonnet")
    rig = Rig(sonnet, ScriptedModel("haiku"))
    routed = await rig.router.generate(REQUEST, ["sonnet", "haiku", "offline"], Deadline(3))
    assert routed.completion.text == "Hello. Welcome!"
    assert routed.completion.model_id == "sonnet"
    assert (routed.degraded, routed.fallbacks, routed.reason) == (False, 0, "")


async def test_a_throttled_model_is_retried_after_a_jittered_backoff() -> None:
    sonnet = ScriptedModel("sonnet", ModelThrottled("slow down"))
    rig = Rig(sonnet)
    routed = await rig.router.generate(REQUEST, ["sonnet", "offline"], Deadline(3))
    assert routed.completion.model_id == "sonnet"
    assert sonnet.calls == 2
    assert rig.sleeps == [0.025]  # half (the jitter) of the 0.05 s base
    assert rig.metric("mangaassist_model_retries_total", model="sonnet") == 1
    assert rig.metric("mangaassist_model_errors_total", model="sonnet", kind="throttled") == 1


async def test_a_retry_after_longer_than_the_deadline_moves_on_without_waiting() -> None:
    sonnet = ScriptedModel("sonnet", ModelThrottled("quota", retry_after_s=30))
    haiku = ScriptedModel("haiku")
    rig = Rig(sonnet, haiku)
    routed = await rig.router.generate(REQUEST, ["sonnet", "haiku", "offline"], Deadline(3))
    assert routed.completion.model_id == "haiku"
    assert (sonnet.calls, rig.sleeps) == (1, [])
    assert (routed.fallbacks, routed.reason) == (1, "throttled")
    assert rig.metric("mangaassist_model_fallbacks_total", model="sonnet", reason="throttled") == 1


async def test_a_model_silent_past_the_first_token_deadline_is_abandoned() -> None:
    sonnet = ScriptedModel("sonnet", Hang(5))
    haiku = ScriptedModel("haiku")
    rig = Rig(sonnet, haiku)
    routed = await rig.router.generate(REQUEST, ["sonnet", "haiku", "offline"], Deadline(3))
    assert routed.completion.model_id == "haiku"
    assert sonnet.calls == 1  # not retried: a stalled model would stall again
    assert routed.reason == "timeout"


async def test_when_no_model_answers_the_catalog_answer_is_degraded() -> None:
    sonnet = ScriptedModel("sonnet", ModelOverloaded("503"), ModelOverloaded("503"))
    haiku = ScriptedModel("haiku", ModelAuthError("denied"))
    rig = Rig(sonnet, haiku)
    deltas: list[str] = []

    async def sink(text: str) -> None:
        deltas.append(text)

    routed = await rig.router.generate(
        REQUEST, ["sonnet", "haiku", "offline"], Deadline(3), sink, live=True
    )
    assert routed.degraded is True
    assert routed.completion.text == "From the catalog."
    assert deltas == ["From the catalog."]
    assert (routed.reason, routed.fallbacks) == ("overloaded", 2)
    assert haiku.calls == 1  # credentials do not get better on a retry


async def test_a_chain_that_starts_offline_is_not_degraded() -> None:
    rig = Rig()
    routed = await rig.router.generate(REQUEST, ["offline"], Deadline(3))
    assert (routed.degraded, routed.completion.model_id) == (False, "offline")


async def test_no_call_is_started_without_time_for_it() -> None:
    sonnet = ScriptedModel("sonnet")
    rig = Rig(sonnet)
    routed = await rig.router.generate(REQUEST, ["sonnet", "offline"], Deadline(0.1))
    assert sonnet.calls == 0
    assert (routed.degraded, routed.reason) == (True, "deadline")


async def test_the_breaker_opens_skips_the_model_and_probes_it_later() -> None:
    failures = [ModelOverloaded("503")] * 6
    sonnet = ScriptedModel("sonnet", *failures)
    haiku = ScriptedModel("haiku")
    rig = Rig(sonnet, haiku, policy=RouterPolicy(attempts_per_model=1))
    chain = ["sonnet", "haiku", "offline"]
    for _ in range(3):
        assert (await rig.router.generate(REQUEST, chain, Deadline(3))).completion.model_id == (
            "haiku"
        )
    assert rig.state("sonnet") == BreakerState.OPEN
    assert rig.metric("mangaassist_model_breaker_state", model="sonnet") == 2
    routed = await rig.router.generate(REQUEST, chain, Deadline(3))
    assert sonnet.calls == 3  # skipped while open
    assert routed.reason == "breaker_open"
    rig.clock.now += 10  # the open period ends: one probe goes through, and fails
    await rig.router.generate(REQUEST, chain, Deadline(3))
    assert sonnet.calls == 4
    assert rig.state("sonnet") == BreakerState.OPEN
    sonnet.script.clear()  # the model recovers
    rig.clock.now += 10
    routed = await rig.router.generate(REQUEST, chain, Deadline(3))
    assert routed.completion.model_id == "sonnet"
    assert rig.state("sonnet") == BreakerState.CLOSED
    assert rig.metric("mangaassist_model_breaker_state", model="sonnet") == 0


async def test_a_refused_request_does_not_count_toward_the_breaker() -> None:
    sonnet = ScriptedModel("sonnet", *[ModelInvalidRequest("bad")] * 5)
    rig = Rig(sonnet, policy=RouterPolicy(attempts_per_model=1))
    for _ in range(5):
        await rig.router.generate(REQUEST, ["sonnet", "offline"], Deadline(3))
    assert rig.state("sonnet") == BreakerState.CLOSED


async def test_a_live_answer_cut_after_text_was_shown_is_interrupted_not_replaced() -> None:
    sonnet = ScriptedModel("sonnet", Cut(1, ModelOverloaded("connection reset")))
    rig = Rig(sonnet, ScriptedModel("haiku"))
    shown: list[str] = []

    async def sink(text: str) -> None:
        shown.append(text)

    with pytest.raises(AnswerInterrupted) as raised:
        await rig.router.generate(
            REQUEST, ["sonnet", "haiku", "offline"], Deadline(3), sink, live=True
        )
    assert shown == ["Hello. "]
    assert raised.value.completion.text == "Hello. "
    assert raised.value.reason == "overloaded"


async def test_a_live_answer_that_started_in_time_may_stream_past_the_deadline() -> None:
    pieces = tuple(f"Part {i}. " for i in range(6))
    rig = Rig(ScriptedModel("sonnet", reply=pieces, pace_s=0.1))
    live = await rig.router.generate(REQUEST, ["sonnet", "offline"], Deadline(0.4), live=True)
    assert (live.degraded, live.completion.text) == (False, "".join(pieces))
    rig = Rig(ScriptedModel("sonnet", reply=pieces, pace_s=0.1))
    settled = await rig.router.generate(REQUEST, ["sonnet", "offline"], Deadline(0.4))
    assert (settled.degraded, settled.reason) == (True, "timeout")


async def test_a_live_answer_that_goes_silent_midway_is_interrupted() -> None:
    sonnet = ScriptedModel("sonnet", reply=("First. ", "Second."), pace_s=0.5)
    rig = Rig(sonnet, policy=RouterPolicy(idle_s=0.2))
    with pytest.raises(AnswerInterrupted) as raised:
        await rig.router.generate(REQUEST, ["sonnet", "offline"], Deadline(3), live=True)
    assert (raised.value.completion.text, raised.value.reason) == ("First. ", "timeout")


async def test_a_non_streamed_answer_cut_midway_falls_back_without_the_fragment() -> None:
    sonnet = ScriptedModel("sonnet", Cut(1, ModelOverloaded("reset")), Cut(1, ModelOverloaded("x")))
    haiku = ScriptedModel("haiku", reply=("Haiku here.",))
    rig = Rig(sonnet, haiku)
    received: list[str] = []

    async def sink(text: str) -> None:
        received.append(text)

    routed = await rig.router.generate(REQUEST, ["sonnet", "haiku", "offline"], Deadline(3), sink)
    assert routed.completion.text == "Haiku here."
    assert received == ["Haiku here."]


@pytest.mark.parametrize(
    ("step", "reason"),
    [("empty", "malformed"), ("no_end", "malformed"), (KeyError("choices"), "malformed")],
)
async def test_broken_answers_and_adapter_bugs_fall_back(step: object, reason: str) -> None:
    sonnet = ScriptedModel("sonnet", step, step)  # type: ignore[arg-type]
    rig = Rig(sonnet)
    routed = await rig.router.generate(REQUEST, ["sonnet", "offline"], Deadline(3))
    assert (routed.degraded, routed.reason) == (True, reason)


class DropSentencesWith:
    """A guard that drops sentences containing a word."""

    def __init__(self, word: str) -> None:
        self.word = word
        self.dropped: list[str] = []

    def feed(self, delta: str) -> list[str]:
        if self.word in delta:
            self.dropped.append(delta)
            return []
        return [delta]

    def flush(self) -> list[str]:
        return []


def _guard(word: str) -> Callable[[], DropSentencesWith]:
    return lambda: DropSentencesWith(word)


async def test_sentences_the_guard_drops_never_reach_the_customer() -> None:
    sonnet = ScriptedModel("sonnet", reply=("We have 『Frieren』. ", "Also 『Naruto』. ", "Enjoy!"))
    rig = Rig(sonnet)
    routed = await rig.router.generate(
        REQUEST, ["sonnet", "offline"], Deadline(3), guard=_guard("Naruto")
    )
    assert routed.completion.text == "We have 『Frieren』. Enjoy!"
    assert routed.dropped == 1
    assert rig.metric("mangaassist_model_ungrounded_sentences_total", model="sonnet") == 1


async def test_an_answer_with_nothing_grounded_falls_back_to_the_catalog() -> None:
    sonnet = ScriptedModel("sonnet", reply=("Try 『Naruto』.",))
    rig = Rig(sonnet)
    routed = await rig.router.generate(
        REQUEST, ["sonnet", "offline"], Deadline(3), guard=_guard("Naruto")
    )
    assert (routed.degraded, routed.reason) == (True, "ungrounded")
    assert routed.completion.text == "From the catalog."


@pytest.mark.parametrize(
    ("tokens", "time_left", "expected"),
    [(0, 60, 10.0), (4000, 60, 14.0), (50_000, 60, 25.0), (4000, 2.5, 2.5), (0, 0, 0.0)],
)
def test_read_timeout_is_adaptive_and_capped_by_the_time_left(
    tokens: int, time_left: float, expected: float
) -> None:
    assert read_timeout_s(tokens, time_left, RouterPolicy()) == expected

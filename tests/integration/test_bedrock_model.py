"""BedrockModel and BedrockProvider against the fake bedrock-runtime, over real HTTP.

Real aiobotocore sends every request to ``tests/model_servers/bedrock.py`` and parses what comes
back: JSON bodies, error headers and ConverseStream's binary event stream. Each test scripts the
fake's next outcomes; a call that hangs is cancelled the way the router cancels it
(``asyncio.timeout``) and the shared client must serve the next call. ``mangaassist models
calibrate`` runs against the same fake at the end.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from botocore.exceptions import EventStreamError
from typer.testing import CliRunner

from mangaassist.cli import app
from mangaassist.cli_models import BUILTIN_SAMPLES
from mangaassist.llm.base import (
    ChatModel,
    Completion,
    ContextTooLong,
    ModelAuthError,
    ModelError,
    ModelInvalidRequest,
    ModelMalformedResponse,
    ModelMessage,
    ModelOverloaded,
    ModelRequest,
    ModelThrottled,
    StreamEnd,
    TextDelta,
)
from mangaassist.llm.bedrock import BedrockModel, BedrockProvider, bedrock_error
from mangaassist.text.token_estimate import estimate_messages_tokens
from tests.model_servers.bedrock import REPLY_EN, REPLY_JA, create_app, estimate_tokens
from tests.model_servers.faults import FakeModelState, FaultPlan, Outcome
from tests.model_servers.runner import serve_in_thread

pytestmark = pytest.mark.timeout(30)

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET = "anthropic.claude-3-sonnet-20240229-v1:0"
#: How long TIMEOUT and STALL calls hang; the client gives up after CANCEL_AFTER_S.
HANG_S = 2.0
CANCEL_AFTER_S = 0.3
#: Japanese, emoji with a skin tone, a ZWJ family, a flag, a character outside the BMP.
TRICKY = "『呪術廻戦』は在庫あり📚👍🏽！家族👨‍👩‍👧‍👦で𠮷野家へ 🇯🇵 Thanks, see you soon."
REQUEST = ModelRequest(
    system="あなたは漫画書店の店員です。",
    messages=(ModelMessage("user", "ワンピースの最新刊はありますか？"),),
    max_tokens=300,
    temperature=0.3,
)
KIMETSU = "鬼滅の刃の全巻セットはありますか？"
runner = CliRunner()


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakeModelState, str]]:
    state = FakeModelState()
    with serve_in_thread(create_app(state)) as url:
        yield state, url


@pytest.fixture
def state(fake: tuple[FakeModelState, str]) -> FakeModelState:
    state, _ = fake
    state.set_plan(FaultPlan(hang_s=HANG_S))
    state.calls.clear()
    return state


def bedrock_url(fake: tuple[FakeModelState, str], credentials: str = "testing:testing@") -> str:
    host_port = fake[1].removeprefix("http://")
    return f"bedrock+http://{credentials}{host_port}?region=us-east-1"


@pytest.fixture
async def provider(
    fake: tuple[FakeModelState, str], state: FakeModelState
) -> AsyncIterator[BedrockProvider]:
    provider = BedrockProvider.from_url(bedrock_url(fake))
    yield provider
    await provider.close()


@pytest.fixture
def model(provider: BedrockProvider) -> BedrockModel:
    return BedrockModel(HAIKU, provider)


@pytest.fixture
def no_aws_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment where botocore's credential chain finds nothing, without the network."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


async def collect(model: ChatModel, request: ModelRequest) -> tuple[list[str], list[StreamEnd]]:
    deltas: list[str] = []
    ends: list[StreamEnd] = []
    async for event in model.stream(request):
        assert not ends, "nothing may follow the StreamEnd"
        if isinstance(event, TextDelta):
            deltas.append(event.text)
        else:
            ends.append(event)
    return deltas, ends


async def deltas_before_failure(
    model: ChatModel, request: ModelRequest
) -> tuple[list[str], ModelError | None]:
    """The text a stream showed before it failed, and the failure."""
    deltas: list[str] = []
    try:
        async for event in model.stream(request):
            assert isinstance(event, TextDelta), "a broken stream never ends normally"
            deltas.append(event.text)
    except ModelError as exc:
        return deltas, exc
    return deltas, None


async def call(model: ChatModel, request: ModelRequest, *, streaming: bool) -> Completion:
    """One answer, through ConverseStream or Converse."""
    if not streaming:
        return await model.complete(request)
    deltas, ends = await collect(model, request)
    return Completion("".join(deltas), ends[0].usage, model.model_id, ends[0].stop_reason)


def fake_input_tokens(request: ModelRequest) -> int:
    return estimate_tokens(request.system) + sum(estimate_tokens(m.text) for m in request.messages)


# -- answers ---------------------------------------------------------------------------------


async def test_streamed_deltas_rebuild_the_exact_text_with_usage_and_stop_reason(
    state: FakeModelState, model: BedrockModel
) -> None:
    state.set_plan(FaultPlan(reply=TRICKY))

    deltas, ends = await collect(model, REQUEST)

    assert "".join(deltas) == TRICKY
    assert len(deltas) > 5, "the answer arrives in pieces, not at the end"
    assert all(deltas)
    assert len(ends) == 1
    assert ends[0].stop_reason == "end_turn"
    assert ends[0].usage.input_tokens == fake_input_tokens(REQUEST)
    assert ends[0].usage.output_tokens == estimate_tokens(TRICKY)
    assert state.calls[-1]["operation"] == "ConverseStream"
    assert state.calls[-1]["model_id"] == HAIKU


async def test_complete_answers_with_one_converse_call(
    state: FakeModelState, model: BedrockModel
) -> None:
    state.set_plan(FaultPlan(reply=TRICKY))

    completion = await model.complete(REQUEST)

    assert completion.text == TRICKY
    assert completion.model_id == HAIKU
    assert completion.stop_reason == "end_turn"
    assert completion.usage.input_tokens == fake_input_tokens(REQUEST)
    assert completion.usage.output_tokens == estimate_tokens(TRICKY)
    assert [c["operation"] for c in state.calls] == ["Converse"]


async def test_the_answer_follows_the_customers_language(
    state: FakeModelState, model: BedrockModel
) -> None:
    english = ModelRequest(system="", messages=(ModelMessage("user", "Is One Piece in stock?"),))

    japanese_answer = await model.complete(REQUEST)
    english_answer = await call(model, english, streaming=True)

    assert japanese_answer.text == REPLY_JA
    assert english_answer.text == REPLY_EN


async def test_the_request_carries_system_merged_messages_and_limits(
    state: FakeModelState, model: BedrockModel
) -> None:
    # Given a history that opens with the shop's greeting and has two customer messages in a row
    request = ModelRequest(
        system="丁寧語で答えてください。",
        messages=(
            ModelMessage("assistant", "いらっしゃいませ！"),
            ModelMessage("user", "こんにちは"),
            ModelMessage("user", KIMETSU),
            ModelMessage("assistant", "はい、ございます。"),
            ModelMessage("user", "Price?"),
        ),
        max_tokens=321,
        temperature=0.2,
    )

    # When it is sent both ways
    await model.complete(request)
    await collect(model, request)

    # Then Converse gets a conversation that starts with the customer and alternates
    assert [c["operation"] for c in state.calls] == ["Converse", "ConverseStream"]
    for sent in state.calls:
        body = sent["body"]
        assert body["system"] == [{"text": "丁寧語で答えてください。"}]
        assert body["messages"] == [
            {"role": "user", "content": [{"text": f"こんにちは\n\n{KIMETSU}"}]},
            {"role": "assistant", "content": [{"text": "はい、ございます。"}]},
            {"role": "user", "content": [{"text": "Price?"}]},
        ]
        assert body["inferenceConfig"] == {"maxTokens": 321, "temperature": 0.2}


async def test_an_empty_system_prompt_is_left_out(
    state: FakeModelState, model: BedrockModel
) -> None:
    await model.complete(ModelRequest(system="", messages=(ModelMessage("user", "hi"),)))

    assert "system" not in state.calls[-1]["body"]


async def test_models_share_one_client_and_stream_concurrently(
    state: FakeModelState, provider: BedrockProvider
) -> None:
    state.set_plan(FaultPlan(reply=TRICKY, token_interval_s=0.01))
    haiku, sonnet = BedrockModel(HAIKU, provider), BedrockModel(SONNET, provider)

    answers = await asyncio.gather(*(collect(m, REQUEST) for m in (haiku, sonnet) * 4))

    assert all("".join(deltas) == TRICKY for deltas, _ in answers)
    assert sorted({c["model_id"] for c in state.calls}) == [HAIKU, SONNET]
    assert await provider.client() is await provider.client()


# -- failures --------------------------------------------------------------------------------


@pytest.mark.parametrize("streaming", [True, False], ids=["stream", "complete"])
@pytest.mark.parametrize(
    ("outcome", "error"),
    [
        (Outcome.THROTTLE, ModelThrottled),
        (Outcome.OVERLOADED, ModelOverloaded),
        (Outcome.AUTH, ModelAuthError),
        (Outcome.CONTEXT, ContextTooLong),
        (Outcome.INVALID, ModelInvalidRequest),
        (Outcome.MALFORMED, ModelMalformedResponse),
        (Outcome.DISCONNECT, ModelOverloaded),
    ],
)
async def test_each_fault_is_raised_as_its_kind(
    state: FakeModelState,
    model: BedrockModel,
    outcome: Outcome,
    error: type[ModelError],
    streaming: bool,
) -> None:
    state.set_plan(FaultPlan(script=[outcome], retry_after_s=1.5, hang_s=HANG_S))

    with pytest.raises(ModelError) as raised:
        await call(model, REQUEST, streaming=streaming)

    assert type(raised.value) is error
    assert raised.value.model_id == HAIKU
    if outcome in (Outcome.THROTTLE, Outcome.OVERLOADED):
        assert raised.value.retry_after_s == 1.5


async def test_throttling_without_retry_after_leaves_it_unset(
    state: FakeModelState, model: BedrockModel
) -> None:
    state.set_plan(FaultPlan(script=[Outcome.THROTTLE]))

    with pytest.raises(ModelThrottled) as raised:
        await collect(model, REQUEST)

    assert raised.value.retry_after_s is None
    assert raised.value.transient


@pytest.mark.parametrize(
    ("outcome", "error", "shown"),
    [(Outcome.DISCONNECT, ModelOverloaded, 3), (Outcome.MALFORMED, ModelMalformedResponse, 2)],
)
async def test_a_stream_broken_midway_fails_after_the_text_already_shown(
    state: FakeModelState,
    model: BedrockModel,
    outcome: Outcome,
    error: type[ModelError],
    shown: int,
) -> None:
    state.set_plan(FaultPlan(script=[outcome], reply=TRICKY, disconnect_after=3))

    deltas, failure = await deltas_before_failure(model, REQUEST)

    assert type(failure) is error
    assert len(deltas) == shown
    assert TRICKY.startswith("".join(deltas))


@pytest.mark.parametrize("streaming", [True, False], ids=["stream", "complete"])
@pytest.mark.parametrize("outcome", [Outcome.TIMEOUT, Outcome.STALL])
async def test_a_hung_call_is_cancelled_and_the_provider_serves_the_next(
    state: FakeModelState, model: BedrockModel, outcome: Outcome, streaming: bool
) -> None:
    # Given an open client (opening it takes a few hundred ms) and a server that will hang
    await model.provider.open()
    state.set_plan(FaultPlan(script=[outcome], reply=TRICKY, hang_s=HANG_S))
    started = time.monotonic()

    # When the caller gives up first
    with pytest.raises(TimeoutError):  # the cancellation itself, not a ModelError
        async with asyncio.timeout(CANCEL_AFTER_S):
            await call(model, REQUEST, streaming=streaming)

    # Then the hung call had reached the server, and the caller did not wait out its hang
    assert len(state.calls) == 1
    assert time.monotonic() - started < HANG_S  # a safety bound, not a performance target
    # And the next call on the same client is answered at once
    answer = await call(model, REQUEST, streaming=streaming)
    assert answer.text == TRICKY
    assert time.monotonic() - started < HANG_S


async def test_count_tokens_asks_countTokens_with_the_conversation(
    state: FakeModelState, provider: BedrockProvider
) -> None:
    count = await provider.count_tokens(SONNET, REQUEST)

    assert count == fake_input_tokens(REQUEST)
    sent = state.calls[-1]
    assert (sent["operation"], sent["model_id"]) == ("CountTokens", SONNET)
    assert sent["body"]["input"]["converse"]["system"] == [{"text": REQUEST.system}]
    assert sent["body"]["input"]["converse"]["messages"][0]["role"] == "user"


async def test_count_tokens_failures_are_model_errors(
    state: FakeModelState, provider: BedrockProvider
) -> None:
    state.set_plan(FaultPlan(script=[Outcome.INVALID]))

    with pytest.raises(ModelInvalidRequest) as raised:
        await provider.count_tokens(SONNET, REQUEST)

    assert raised.value.model_id == SONNET


@pytest.mark.usefixtures("no_aws_credentials")
async def test_missing_credentials_are_an_auth_error_before_any_request(
    fake: tuple[FakeModelState, str], state: FakeModelState
) -> None:
    provider = BedrockProvider.from_url(bedrock_url(fake, credentials=""))
    try:
        with pytest.raises(ModelAuthError):
            await collect(BedrockModel(HAIKU, provider), REQUEST)
    finally:
        await provider.close()

    assert state.calls == []


@pytest.mark.parametrize(
    ("code", "message", "error"),
    [
        ("throttlingException", "Too many tokens per minute", ModelThrottled),
        ("modelStreamErrorException", "The model stopped", ModelOverloaded),
        ("internalServerException", "Internal error", ModelOverloaded),
        ("serviceUnavailableException", "Try again", ModelOverloaded),
        ("validationException", "Input is too long for requested model.", ContextTooLong),
        ("validationException", "Malformed input request", ModelInvalidRequest),
    ],
)
def test_exception_events_inside_the_stream_are_raised_as_their_kind(
    code: str, message: str, error: type[ModelError]
) -> None:
    # botocore raises an exception event of ConverseStream as EventStreamError with its type
    raised = EventStreamError({"Error": {"Code": code, "Message": message}}, "ConverseStream")

    translated = bedrock_error(raised, HAIKU)

    assert type(translated) is error
    assert translated.model_id == HAIKU


# -- URLs ------------------------------------------------------------------------------------


def test_from_url_reads_a_region_or_an_endpoint_with_its_keys() -> None:
    aws = BedrockProvider.from_url("bedrock://ap-northeast-1")
    local = BedrockProvider.from_url(
        "bedrock+https://key:secret@proxy.internal:8443?region=eu-west-1"
    )

    assert (aws.region, aws.location.endpoint_url) == ("ap-northeast-1", None)
    assert local.region == "eu-west-1"
    assert local.location.endpoint_url == "https://proxy.internal:8443"
    assert (local.location.access_key, local.location.secret_key) == ("key", "secret")


@pytest.mark.parametrize(
    "url",
    [
        "offline",
        "sqs://us-east-1",
        "openai+http://127.0.0.1:8000/v1",
        "https://bedrock-runtime.us-east-1.amazonaws.com",
        "bedrock://",
        "bedrock+http://:8080?region=us-east-1",
        "bedrock://us-east-1/anthropic.claude-3-haiku-20240307-v1:0",
        "sqs+http://key:supersecret@127.0.0.1:9324",
    ],
)
def test_from_url_refuses_what_is_not_a_bedrock_url(url: str) -> None:
    with pytest.raises(ValueError, match="bedrock://REGION") as raised:
        BedrockProvider.from_url(url)

    assert "supersecret" not in str(raised.value)


# -- mangaassist models calibrate ------------------------------------------------------------


def test_calibrate_compares_estimates_with_counts_per_model(
    fake: tuple[FakeModelState, str], state: FakeModelState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MANGAASSIST_LLM_URL", bedrock_url(fake))
    monkeypatch.setenv("COLUMNS", "200")
    labels = [label for label, _ in BUILTIN_SAMPLES[:5]]
    texts = [text for _, text in BUILTIN_SAMPLES[:5]]

    result = runner.invoke(
        app, ["models", "calibrate", "--model", HAIKU, "--model", SONNET, "--samples", "5"]
    )

    assert result.exit_code == 0, result.output
    assert HAIKU in result.output
    assert SONNET in result.output
    counted = [estimate_tokens(t) for t in texts]
    estimated = [estimate_messages_tokens([("user", t)]) for t in texts]
    for label, estimate, count in zip(labels, estimated, counted, strict=True):
        row = rf"{label}\s*│\s*{estimate}\s*│\s*{count}\s*│"
        assert len(re.findall(row, result.output)) == 2, f"{label}: {estimate} vs {count}"
    mape = sum(abs(e - c) / c for e, c in zip(estimated, counted, strict=True)) / 5 * 100
    assert result.output.count(f"MAPE {mape:.1f}%") == 2
    assert [(c["operation"], c["model_id"]) for c in state.calls] == [
        ("CountTokens", HAIKU)
    ] * 5 + [("CountTokens", SONNET)] * 5


def test_calibrate_defaults_to_the_fast_and_quality_models_and_catalog_synopses(
    fake: tuple[FakeModelState, str], state: FakeModelState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MANGAASSIST_LLM_URL", bedrock_url(fake))
    monkeypatch.setenv("MANGAASSIST_FAST_MODEL_ID", "fast-model")
    monkeypatch.setenv("MANGAASSIST_QUALITY_MODEL_ID", "quality-model")
    monkeypatch.setenv("COLUMNS", "200")

    result = runner.invoke(app, ["models", "calibrate", "--samples", str(len(BUILTIN_SAMPLES) + 2)])

    assert result.exit_code == 0, result.output
    assert {c["model_id"] for c in state.calls} == {"fast-model", "quality-model"}
    assert "synopsis ja" in result.output
    assert "synopsis en" in result.output


def test_calibrate_needs_a_bedrock_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MANGAASSIST_LLM_URL", "offline")

    result = runner.invoke(app, ["models", "calibrate"])

    assert result.exit_code == 2
    assert "bedrock://REGION" in result.output


@pytest.mark.usefixtures("no_aws_credentials")
def test_calibrate_without_credentials_says_so(
    fake: tuple[FakeModelState, str], state: FakeModelState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MANGAASSIST_LLM_URL", bedrock_url(fake, credentials=""))

    result = runner.invoke(app, ["models", "calibrate", "--samples", "1"])

    assert result.exit_code == 2
    assert "no AWS credentials" in result.output
    assert "Traceback" not in result.output

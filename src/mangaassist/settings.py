"""Settings from the environment (prefix ``MANGAASSIST_``) or a ``.env`` file.

Every setting is listed, with its default and meaning, in the README's settings table; a test
keeps the two in step.
"""

from __future__ import annotations

from typing import Any, Literal

from limits import parse_many
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mangaassist.access.config import PlanConfig, ThrottleConfig
from mangaassist.events.archive import DEFAULT_ARCHIVES
from mangaassist.webhooks.outbound import DEFAULT_SCHEDULE_S
from mangaassist.webhooks.signing import decode_secret
from mangaassist.webhooks.sources import SourceName, WebhookSource

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Everything an operator can configure. Defaults run fully offline on embedded backends."""

    # Errors name the setting and the rule, never the value: several values are secrets
    # (webhook and callback secrets), and startup errors end up in logs.
    model_config = SettingsConfigDict(
        env_prefix="MANGAASSIST_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,
    )

    store_url: str = Field(
        "sqlite:///var/mangaassist.db",
        description="Store database: `sqlite:///path` (WAL mode) or `postgresql://user@host/db`.",
    )
    host: str = Field("127.0.0.1", description="Interface `mangaassist serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `mangaassist serve` listens on.")
    workers: int = Field(1, ge=1, le=64, description="API worker processes of `serve`.")
    max_body_bytes: int = Field(
        65536, ge=1024, description="Largest accepted request body; larger ones get 413."
    )
    max_body_bytes_by_route: dict[str, int] = Field(
        {"/v1/manga/batch": 4_194_304, "/admin/events": 262_144, "/webhooks": 1_048_576},
        description="Larger body limits by path prefix (JSON): a full batch (100 items of 2,000 "
        "characters, JSON-escaped) needs up to 2.7 MB, PutEvents 256 KB as in EventBridge, "
        "webhook senders up to 1 MB.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Lowest log level written."
    )
    log_format: Literal["json", "console"] = Field(
        "json", description="`json` (one object per line) or `console` (human-readable)."
    )
    catalog_refresh_s: float = Field(
        1.0,
        ge=0.0,
        description="How often a process checks the store for catalog changes to re-index.",
    )
    cache_url: str = Field(
        "memory://",
        description="Response cache: `memory://` (in-process) or `redis://host:6379/0`.",
    )
    cache_namespace: str = Field(
        "mangaassist:cache", description="Key prefix of the Redis cache (one per store)."
    )
    cache_ttl_s: float = Field(300.0, gt=0, description="Seconds a cached chat answer lives.")
    chat_deadline_s: float = Field(
        3.0, gt=0, description="Time budget of one chat answer; past it the answer degrades."
    )
    max_message_graphemes: int = Field(
        4000, ge=1, description="Longest chat message, in user-perceived characters."
    )
    max_message_bytes: int = Field(32000, ge=1, description="Longest chat message in UTF-8 bytes.")
    history_budget_tokens: int = Field(
        6000, ge=0, description="Estimated input tokens of history sent to the model."
    )
    session_idle_minutes: float = Field(
        30.0, gt=0, description="Minutes of inactivity after which a chat session starts over."
    )
    llm_url: str = Field(
        "offline",
        description=(
            "Model provider: `offline` (catalog-grounded responder, no network), "
            "`bedrock://REGION` (Amazon Bedrock), `bedrock+http://HOST:PORT?region=R` (a "
            "compatible endpoint) or `openai+http(s)://HOST:PORT/v1` (vLLM, Ollama, llama.cpp, "
            "LM Studio, LiteLLM)."
        ),
    )
    llm_api_key: SecretStr | None = Field(
        None, description="API key of an OpenAI-compatible provider (sent as a bearer token)."
    )
    model_chains: dict[str, list[str]] = Field(
        {},
        description=(
            "Models per tier (`fast`, `quality`), tried in order (JSON). An entry is a model id "
            "of MANGAASSIST_LLM_URL, `offline`, or `URL#MODEL` for another provider. Empty: "
            "fast = fast model, offline; quality = quality model, fast model, offline."
        ),
    )
    model_first_token_s: float = Field(
        1.5, gt=0, description="Longest wait for a model's first token before the next model."
    )
    model_attempts: int = Field(
        2, ge=1, le=5, description="Calls per model per answer (1 = no retry of the same model)."
    )
    model_backoff_s: float = Field(
        0.05, ge=0, description="Base of the jittered backoff between retries of one model."
    )
    breaker_failures: int = Field(
        5, ge=1, description="Failures within the window that open a model's circuit breaker."
    )
    breaker_window_s: float = Field(30.0, gt=0, description="Window of the breaker's count.")
    breaker_failure_ratio: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Share of the window's calls that must have failed for the breaker to open.",
    )
    breaker_open_s: float = Field(
        15.0, gt=0, description="Seconds an open breaker skips its model before a probe call."
    )
    offline_delta_delay_ms: float = Field(
        0.0, ge=0, description="Pause between the offline responder's deltas (demo typing speed)."
    )
    fast_model_id: str = Field(
        "anthropic.claude-3-haiku-20240307-v1:0",
        description="Model of the fast tier when a real backend is configured.",
    )
    quality_model_id: str = Field(
        "anthropic.claude-3-sonnet-20240229-v1:0",
        description="Model of the quality tier when a real backend is configured.",
    )
    model_prices: dict[str, tuple[float, float]] = Field(
        {
            "anthropic.claude-3-sonnet-20240229-v1:0": (3.0, 15.0),
            "anthropic.claude-3-haiku-20240307-v1:0": (0.25, 1.25),
        },
        description="USD per million input and output tokens, by model id (JSON).",
    )
    cost_guards: dict[str, int] = Field(
        {
            "anthropic.claude-3-sonnet-20240229-v1:0": 8000,
            "anthropic.claude-3-haiku-20240307-v1:0": 16000,
        },
        description="Most estimated input tokens per model id (JSON); above, route down or 422.",
    )
    max_output_tokens: int = Field(512, ge=1, le=4096, description="Answer length cap (tokens).")
    shipping_fee_jpy: int = Field(550, ge=0, description="Flat shipping fee quoted, in yen.")
    free_shipping_from_jpy: int = Field(5000, ge=0, description="Order total with free shipping.")
    delivery_days: str = Field("1-3", description="Business days to delivery, as quoted.")
    return_days: int = Field(14, ge=0, description="Days after delivery a return is accepted.")
    payment_methods: list[str] = Field(
        ["credit_card", "paypay", "konbini", "cod"],
        description="Accepted payment methods (codes; see domain/policy.py), JSON list.",
    )
    ws_ping_interval_s: float = Field(
        20.0, gt=0, description="Client ping interval advertised in `hello` (carrier NAT: 30 s)."
    )
    ws_pong_timeout_s: float = Field(5.0, gt=0, description="Pong wait advertised in `hello`.")
    ws_idle_timeout_s: float = Field(
        60.0, gt=0, description="Close a WebSocket that sent nothing for this long (code 4000)."
    )
    ws_mobile_idle_timeout_s: float = Field(
        45.0, gt=0, description="Idle timeout for `clientType=mobile` connections."
    )
    ws_max_frame_bytes: int = Field(
        65536, ge=1024, description="Largest client frame; larger ones close with 1009."
    )
    ws_send_queue_frames: int = Field(
        512, ge=16, description="Frames queued for a slow reader before closing it (code 4001)."
    )
    stream_resume_window_s: float = Field(
        120.0, gt=0, description="Seconds a streamed answer stays resumable after its last event."
    )
    queues_url: str | None = Field(
        None,
        description="Job queues: `sqlite:///path`, `redis://host:6379/0` (Streams) or "
        "`sqs://region` / `sqs+http://host:port?region=...`; unset: `queues.db` beside a SQLite "
        "store, else `sqlite:///var/queues.db`.",
    )
    queues_namespace: str = Field(
        "mangaassist:queues", description="Key prefix of Redis queues (one per deployment)."
    )
    queues_topology_file: str | None = Field(
        None, description="JSON file of queues replacing the default topology (docs/queues.md)."
    )
    worker_embedded: bool = Field(
        True, description="Run a job worker inside each `serve` process (off: run `worker`)."
    )
    worker_queues: list[str] = Field(
        [], description="Queues a worker takes jobs from, JSON list; empty: all but DLQs."
    )
    worker_concurrency: int = Field(
        10, ge=1, le=1000, description="Jobs one worker process runs at a time."
    )
    queue_metrics_interval_s: float = Field(
        15.0, gt=0, description="How often queue depths are read for `/metrics`."
    )
    batch_max_backlog: dict[str, int] = Field(
        {"manga-fm-high-priority": 1000, "manga-fm-normal": 5000, "manga-fm-low-priority": 20000},
        description="Most jobs waiting in a queue (visible + delayed) before `POST "
        "/v1/manga/batch` answers 503 with `Retry-After`, by queue (JSON).",
    )
    batch_retry_after_s: int = Field(
        30, ge=1, description="`Retry-After` seconds of a batch refused for backlog."
    )
    batch_analysis_timeout_s: float = Field(
        90.0, gt=0, description="Longest one item's analysis may take before it is retried."
    )
    batch_requeue_after_s: float = Field(
        60.0,
        gt=0,
        description="Age after which the sweep enqueues a batch item (or callback) no queue "
        "confirmed, e.g. after a crash between the store write and the send.",
    )
    batch_sweep_interval_s: float = Field(
        30.0, gt=0, description="How often each worker runs that sweep."
    )
    callback_secret: SecretStr | None = Field(
        None,
        description="Standard Webhooks signing secret of callbacks, `whsec_<base64>`; unset: "
        "generated once into `callback-secret` beside a SQLite store (else `var/`).",
    )
    callback_allowed_hosts: list[str] = Field(
        [],
        description="Callback hosts (or `host:port`) exempt from the SSRF guard, which may also "
        "use plain `http`, JSON list.",
    )
    callback_timeout_s: float = Field(
        10.0, gt=0, description="Time a callback receiver has to answer one delivery."
    )
    events_url: str | None = Field(
        None,
        description="Event bus: unset for the embedded bus (rules matched in-process, deliveries "
        "through the queues), or `eventbridge://REGION/BUS` / `eventbridge+http://KEY:SECRET@"
        "host:port/BUS?region=...` for Amazon EventBridge.",
    )
    events_rules_file: str | None = Field(
        None,
        description='JSON file of event rules (`{"rules": [...]}`, docs/events.md); they '
        "replace built-in rules of the same name.",
    )
    events_archives: list[dict[str, Any]] = Field(
        [dict(archive) for archive in DEFAULT_ARCHIVES],
        description="Event archives, JSON list of {name, eventPattern, retentionDays}; default: "
        "every `mangaassist.*` event for 30 days.",
    )
    events_schemas_dir: str | None = Field(
        None,
        description="Folder of extra event schemas named `<source>--<detail-type>.json`.",
    )
    events_strict_schemas: bool = Field(
        False, description="Refuse events whose (source, detail-type) has no registered schema."
    )
    events_account: str = Field(
        "000000000000", description="The `account` the embedded bus stamps on events."
    )
    events_region: str = Field("local", description="The `region` the embedded bus stamps.")
    events_rules_refresh_s: float = Field(
        5.0, gt=0, description="Seconds between reloads of rules saved through the admin API."
    )
    webhook_retry_schedule_s: list[float] = Field(
        list(DEFAULT_SCHEDULE_S),
        min_length=1,
        description="Outbound webhook attempts: seconds to wait before each (the first is "
        "usually 0), JSON list; default immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.",
    )
    webhook_disable_after_s: float = Field(
        5 * 86_400.0,
        gt=0,
        description="An outbound endpoint failing without a success for this long is disabled.",
    )
    admin_token: SecretStr | None = Field(
        None,
        description="Bearer token of the admin API (`/admin/...`); unset: the admin API answers "
        "403 ADMIN_DISABLED.",
    )
    webhook_sources: dict[SourceName, WebhookSource] = Field(
        {},
        description="Inbound webhook senders by name (JSON object of {scheme, secrets, handler, "
        "...}, docs/webhooks.md); `POST /webhooks/{source}` answers 404 for any other name.",
    )
    webhook_idempotency_ttl_s: int = Field(
        86400, ge=60, description="Seconds a processed delivery's key is kept to spot duplicates."
    )
    webhook_processing_lease_s: int = Field(
        300,
        ge=5,
        description="Seconds a delivery being processed holds its key; past it (a crashed "
        "process) the sender's retry may claim it again.",
    )
    events_analytics_path: str | None = Field(
        None,
        description="JSON Lines file the `analytics` event handler appends every event to; "
        "unset: `analytics.jsonl` beside a SQLite store, else `var/analytics.jsonl`.",
    )

    access_control: bool = Field(
        False,
        description="Require an API key (`X-Api-Key`) or a JWT on `/v1/...` routes and enforce "
        "usage plans; visitors of the chat page stay anonymous within per-IP and per-session "
        "limits (docs/access.md). Off: the public demo of `make run`.",
    )
    access_plans: dict[str, PlanConfig] = Field(
        {"standard": {"rate_per_s": 100, "burst": 200, "quota": 10_000, "quota_period": "day"}},
        validate_default=True,
        description="Usage plans by name (JSON object of {rate_per_s, burst, quota, "
        "quota_period}); each API key names one.",
    )
    access_token_plan: str = Field(
        "standard", description="Usage plan of callers authenticated by a JWT."
    )
    access_route_throttles: dict[str, ThrottleConfig] = Field(
        {"/v1/chat": {"rate_per_s": 500, "burst": 1000}},
        validate_default=True,
        description="Limits per route for all callers together, by path prefix (JSON object of "
        "{rate_per_s, burst}).",
    )
    access_anonymous_routes: list[str] = Field(
        ["/v1/chat", "/v1/ws", "/v1/sessions", "/v1/search", "/v1/catalog", "/v1/recommend"],
        description="Path prefixes the chat page may call without credentials (JSON list); "
        "empty: every `/v1/...` route needs a key or token.",
    )
    anonymous_ip_plan: PlanConfig = Field(
        {"rate_per_s": 5, "burst": 30, "quota": 5_000, "quota_period": "day"},
        validate_default=True,
        description="Limits of anonymous requests per client IP (JSON {rate_per_s, burst, "
        "quota, quota_period}).",
    )
    anonymous_session_plan: PlanConfig = Field(
        {"rate_per_s": 1, "burst": 10, "quota": 1_000, "quota_period": "day"},
        validate_default=True,
        description="Limits of anonymous chat requests per chat session (JSON, as above).",
    )
    access_storage_url: str | None = Field(
        None,
        description="Where rate-limit counts live: `memory://` (per process) or "
        "`redis://host:6379/0` (shared by all API processes); unset: the cache's Redis when "
        "MANGAASSIST_CACHE_URL is Redis, else `memory://`.",
    )
    access_fail_open: bool = Field(
        True,
        description="When the rate-limit storage cannot be reached, let requests through "
        "(logged and counted) instead of answering 503.",
    )
    api_key_pepper: SecretStr | None = Field(
        None,
        description="Server-side secret mixed into API key hashes (HMAC-SHA-256); keys created "
        "with a pepper only verify with it.",
    )
    jwt_secret: SecretStr | None = Field(
        None, description="Shared secret of HS256 bearer tokens (self-hosted issuers)."
    )
    jwt_jwks_url: str | None = Field(
        None,
        description="JWKS of RS256 bearer tokens: `https://.../.well-known/jwks.json` "
        "(Cognito-style) or a file path.",
    )
    jwt_issuer: str | None = Field(None, description="Required `iss` of bearer tokens.")
    jwt_audience: str | None = Field(
        None, description="Required `aud` of bearer tokens (Cognito: the app client id)."
    )
    jwt_leeway_s: float = Field(
        30.0, ge=0, le=300, description="Clock skew allowed on `exp` and `nbf`."
    )
    cors_allow_origins: list[str] = Field(
        [],
        description="Origins (scheme://host[:port]) whose pages may call the API, JSON list; "
        "empty: same-origin only.",
    )
    hsts_max_age_s: int = Field(
        0,
        ge=0,
        description="`Strict-Transport-Security` max-age sent on every response; 0: not sent "
        "(set it when served over HTTPS).",
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="Proxies whose `X-Forwarded-For` gives the client IP (comma-separated, or "
        "`*`); the per-IP limits count that address.",
    )
    ws_message_limit: str = Field(
        "20/minute;5/second",
        description="Chat actions one WebSocket connection may send, in `limits` notation; "
        "enforced when access control is on.",
    )

    @field_validator("callback_secret")
    @classmethod
    def _check_callback_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            decode_secret(value.get_secret_value())
        return value

    @field_validator("ws_message_limit")
    @classmethod
    def _check_message_limit(cls, value: str) -> str:
        parse_many(value)  # e.g. "20/minute;5/second"; raises ValueError on anything else
        return value

    @model_validator(mode="after")
    def _check_access(self) -> Settings:
        if self.access_token_plan not in self.access_plans:
            raise ValueError("access_token_plan must name one of access_plans")
        for route in (*self.access_route_throttles, *self.access_anonymous_routes):
            if not route.startswith("/v1/"):
                raise ValueError("access routes are path prefixes starting with /v1/")
        return self

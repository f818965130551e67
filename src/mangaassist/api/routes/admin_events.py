"""Admin API of the event bus: rules, pattern tests, PutEvents, replays, webhook endpoints."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Response

from mangaassist.api.admin_auth import AdminDep
from mangaassist.api.deps import ContainerDep
from mangaassist.api.errors import ApiError
from mangaassist.api.event_schemas import (
    EndpointView,
    PutEventsRequest,
    PutEventsResponse,
    PutEventsResultEntry,
    ReplayRequest,
    ReplayResponse,
    RuleList,
    RuleView,
    TestPatternRequest,
    TestPatternResponse,
    rule_view,
)
from mangaassist.api.schemas import ERROR_RESPONSES
from mangaassist.events.base import EventBusError
from mangaassist.events.envelope import Event
from mangaassist.events.patterns import InvalidEventPattern, matches
from mangaassist.events.rules import InvalidRuleError, RuleConfig

__all__ = ["router"]

router = APIRouter(prefix="/admin", tags=["admin"], responses=ERROR_RESPONSES)


@router.get("/events/rules", response_model=RuleList)
async def list_rules(_: AdminDep, container: ContainerDep) -> RuleList:
    """Every rule in force: built-in, from the rules file, and saved through this API."""
    rules = container.rulebook.current().rules.values()
    return RuleList(rules=[rule_view(rule) for rule in sorted(rules, key=lambda r: r.name)])


@router.get("/events/rules/{name}", response_model=RuleView)
async def get_rule(name: str, _: AdminDep, container: ContainerDep) -> RuleView:
    """One rule in force."""
    rule = container.rulebook.get(name)
    if rule is None:
        raise ApiError(404, "EVENT_RULE_NOT_FOUND", name=name)
    return rule_view(rule)


@router.put("/events/rules/{name}", response_model=RuleView)
async def put_rule(
    name: str, body: RuleConfig, response: Response, _: AdminDep, container: ContainerDep
) -> RuleView:
    """Create or replace a rule (PutRule + PutTargets in one); it applies at once here and
    within a few seconds in every process. A built-in rule of the same name is overridden."""
    if body.name != name:
        raise ApiError(422, "EVENT_RULE_NAME_MISMATCH", body=body.name, path=name)
    try:
        rule, created = await container.rulebook.put(body.model_dump(exclude_none=True))
    except InvalidRuleError as exc:
        raise ApiError(422, exc.code, reason=exc.reason) from None
    response.status_code = 201 if created else 200
    return rule_view(rule)


@router.delete("/events/rules/{name}", status_code=204)
async def delete_rule(name: str, _: AdminDep, container: ContainerDep) -> Response:
    """Delete a rule saved through this API (a built-in or file rule of that name returns)."""
    rule = container.rulebook.get(name)
    if rule is None:
        raise ApiError(404, "EVENT_RULE_NOT_FOUND", name=name)
    if not await container.rulebook.delete(name):
        raise ApiError(409, "EVENT_RULE_NOT_DELETABLE", name=name, origin=rule.origin)
    return Response(status_code=204)


@router.post("/events/test-pattern", response_model=TestPatternResponse)
async def check_pattern(body: TestPatternRequest, _: AdminDep) -> TestPatternResponse:
    """TestEventPattern: whether the pattern matches the event (422 for a pattern AWS would
    refuse)."""
    try:
        return TestPatternResponse(result=matches(body.eventPattern, body.event))
    except InvalidEventPattern as exc:
        raise ApiError(422, "EVENT_PATTERN_INVALID", reason=str(exc)) from None


@router.post("/events", response_model=PutEventsResponse)
async def put_events(
    body: PutEventsRequest, _: AdminDep, container: ContainerDep
) -> PutEventsResponse:
    """PutEvents: each entry is checked (envelope, schema) and accepted or refused alone."""
    now = datetime.now(UTC)
    events = [
        Event(
            entry.detailType,
            entry.detail,
            source=entry.source,
            resources=tuple(entry.resources),
            time=entry.time or now,
        )
        for entry in body.entries
    ]
    try:
        results = await container.events.put_events(events)
    except EventBusError:
        raise ApiError(503, "EVENT_BUS_UNAVAILABLE", headers={"Retry-After": "5"}) from None
    entries = [
        PutEventsResultEntry(
            eventId=result.event_id, errorCode=result.error_code, errorMessage=result.error_message
        )
        for result in results
    ]
    return PutEventsResponse(failedEntryCount=sum(1 for r in results if not r.ok), entries=entries)


@router.post("/events/replays", response_model=ReplayResponse)
async def replay(body: ReplayRequest, _: AdminDep, container: ContainerDep) -> ReplayResponse:
    """Re-deliver archived events of ``[from, to)`` as a replay (``replay-name`` set)."""
    replayer = container.replayer
    if replayer is None:
        raise ApiError(409, "EVENT_REPLAY_UNAVAILABLE")
    if body.archive not in replayer.archive_names():
        raise ApiError(404, "EVENT_ARCHIVE_NOT_FOUND", name=body.archive)
    report = await replayer.replay(
        body.archive, body.start, body.end, rules=body.rules, name=body.name
    )
    return ReplayResponse(name=report.name, events=report.events, deliveries=report.deliveries)


@router.get("/webhooks/endpoints", response_model=list[EndpointView])
async def list_endpoints(_: AdminDep, container: ContainerDep) -> list[EndpointView]:
    """Outbound webhook endpoints that have failed, and whether they are disabled."""
    return [
        EndpointView(
            url=h.url,
            failingSince=h.failing_since,
            lastFailureAt=h.last_failure_at,
            lastError=h.last_error,
            failures=h.failures,
            disabledAt=h.disabled_at,
        )
        for h in await container.store.list_endpoints()
    ]


@router.post("/webhooks/endpoints/enable", status_code=204)
async def enable_endpoint(url: str, _: AdminDep, container: ContainerDep) -> Response:
    """Re-enable a disabled endpoint (``?url=``); deliveries to it resume."""
    if not await container.store.enable_endpoint(url):
        raise ApiError(409, "WEBHOOK_ENDPOINT_NOT_DISABLED", url=url)
    return Response(status_code=204)

"""How usage plans and route throttles are written in settings (JSON objects by name)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mangaassist.access.plans import QuotaPeriod, RouteThrottle, UsagePlan

__all__ = ["PlanConfig", "ThrottleConfig", "plans_from_config", "throttles_from_config"]


class ThrottleConfig(BaseModel):
    """A rate with a burst, as API Gateway writes them: ``{"rate_per_s": 500, "burst": 1000}``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rate_per_s: int = Field(ge=1, description="Sustained requests per second.")
    burst: int = Field(ge=1, description="Requests allowed at once from rest (at least the rate).")

    @model_validator(mode="after")
    def _burst_covers_rate(self) -> ThrottleConfig:
        if self.burst < self.rate_per_s:
            raise ValueError("burst must be at least rate_per_s")
        return self


class PlanConfig(ThrottleConfig):
    """A usage plan: rate and burst, plus an optional quota per UTC day or month."""

    quota: int | None = Field(None, ge=1, description="Requests per period; null: no quota.")
    quota_period: QuotaPeriod = Field("day", description="`day` (UTC) or `month` (UTC).")

    def plan(self, name: str) -> UsagePlan:
        """The :class:`UsagePlan` called ``name``."""
        return UsagePlan(name, self.rate_per_s, self.burst, self.quota, self.quota_period)


def plans_from_config(config: dict[str, PlanConfig]) -> dict[str, UsagePlan]:
    """Plans by name, as keys reference them."""
    return {name: plan.plan(name) for name, plan in config.items()}


def throttles_from_config(config: dict[str, ThrottleConfig]) -> dict[str, RouteThrottle]:
    """Route throttles by path prefix."""
    return {
        route: RouteThrottle(route, throttle.rate_per_s, throttle.burst)
        for route, throttle in config.items()
    }

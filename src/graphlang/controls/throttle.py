"""Throttling: a token bucket per user and per application, answered as Graph answers (429,
``Retry-After``, the ``TooManyRequests`` body).

Only authenticated requests are throttled. A ``$batch`` request itself takes no token: each of its
inner requests is throttled on its own, as Graph does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from starlette.responses import Response

from graphlang.api.context import RequestContext
from graphlang.auth.principal import Principal
from graphlang.config import Settings
from graphlang.controls.buckets import Bucket, BucketStore
from graphlang.controls.notes import note_applied
from graphlang.errors import BadRequest, TooManyRequests


@dataclass(frozen=True)
class ThrottlePolicy:
    enabled: bool
    user_limit: int
    app_limit: int
    window_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        enabled = settings.throttle if settings.throttle is not None else settings.auth == "oidc"
        return cls(enabled, settings.throttle_user_limit, settings.throttle_app_limit,
                   settings.throttle_window_seconds)

    def to_json(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "userLimit": self.user_limit, "appLimit": self.app_limit,
                "windowSeconds": self.window_seconds}

    def updated(self, body: object) -> ThrottlePolicy:
        """This policy with the members a control API body sets; a bad member is a 400 naming it."""
        if not isinstance(body, dict):
            raise BadRequest("The throttling settings must be a JSON object.")
        names = {"enabled": "enabled", "userLimit": "user_limit", "appLimit": "app_limit",
                 "windowSeconds": "window_seconds"}
        changes: dict[str, Any] = {}
        for key, value in body.items():
            if key not in names:
                raise BadRequest(f"The property '{key}' does not exist on the throttling settings; "
                                 f"use {', '.join(names)}.")
            if key == "enabled":
                if not isinstance(value, bool):
                    raise BadRequest("Invalid value for property 'enabled': expected a boolean.")
            elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise BadRequest(f"Invalid value for property '{key}': expected a whole number of at least 1.")
            changes[names[key]] = value
        return replace(self, **changes)


def _is_batch(ctx: RequestContext) -> bool:
    return ctx.route.lower().endswith("/$batch")


class Throttle:
    def __init__(self, policy: ThrottlePolicy, buckets: BucketStore) -> None:
        self.policy = policy
        self.buckets = buckets

    def buckets_for(self, principal: Principal) -> list[Bucket]:
        policy = self.policy
        found: list[Bucket] = []
        if principal.user_id is not None:
            found.append(Bucket(f"user:{principal.tenant_id}:{principal.user_id}", policy.user_limit,
                                policy.user_limit / policy.window_seconds))
        if principal.app_id is not None:
            # Graph's application limit counts the app's requests across all tenants.
            found.append(Bucket(f"app:{principal.app_id}", policy.app_limit,
                                policy.app_limit / policy.window_seconds))
        return found

    async def guard(self, ctx: RequestContext) -> Response | None:
        if not self.policy.enabled or ctx.principal is None or _is_batch(ctx):
            return None
        buckets = self.buckets_for(ctx.principal)
        if not buckets:
            return None
        waits = await self.buckets.take(buckets)
        longest = max(waits)
        if longest <= 0:
            return None
        limiting = buckets[waits.index(longest)]
        note_applied(ctx, f"throttle:{limiting.key.split(':', 1)[0]}")
        raise TooManyRequests(retry_after=max(1, math.ceil(longest)))

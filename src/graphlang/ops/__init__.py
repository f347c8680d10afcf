"""Operating graphlang: metrics, per-request logs, health and readiness, and worker processes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphlang.api.routing import Route
from graphlang.ops.logs import log_requests
from graphlang.ops.metrics import Metrics

if TYPE_CHECKING:
    from graphlang.app import GraphlangApp


def install(app: GraphlangApp) -> None:
    app.observers.append(log_requests)
    if app.services.settings.metrics:
        metrics = Metrics(app.services.engine)
        app.observers.append(metrics.observe)
        app.add_public_routes(Route(("metrics",), {"GET": metrics.endpoint}))

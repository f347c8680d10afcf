"""Installing the emulator controls on the app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphlang.controls.api import ControlApi
from graphlang.controls.cors import Cors
from graphlang.controls.runtime import Controls

if TYPE_CHECKING:
    from graphlang.app import GraphlangApp


def install(app: GraphlangApp) -> None:
    controls = Controls.create(app.services)
    cors = Cors(app.services.settings.cors_origins)
    app.responders.append(cors.preflight)
    if app.services.settings.cors_origins:
        app.finishers.append(cors.add_headers)
    # Throttling first: a throttled request is refused before it could fire (and use up) a fault rule.
    app.guards.extend([controls.throttle.guard, controls.faults.guard])
    if app.services.settings.control_api_enabled:  # else nothing could ever read the journal
        app.observers.append(controls.journal.observe)
    app.add_public_routes(*ControlApi(controls).routes())

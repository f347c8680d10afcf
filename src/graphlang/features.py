"""The optional parts of the service, each installed onto the app by one function.

A feature module exposes ``install(app: GraphlangApp) -> None`` and adds its routes, guards and
observers there; this list is the only place that names them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from graphlang import access, controls, ops
from graphlang.api import batch
from graphlang.describe import endpoints as self_description

if TYPE_CHECKING:
    from graphlang.app import GraphlangApp

FEATURES: list[Callable[[GraphlangApp], None]] = [
    batch.install,
    ops.install,
    self_description.install,
    access.install,
    controls.install,
]

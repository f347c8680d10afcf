"""Emulator controls and protocol behaviours for testing clients: throttling, injected faults, the
request journal, CORS, and the control API under ``/_graphlang/`` (health, readiness, reset, seed,
snapshot).

``install`` puts them all on the app; each concept lives in its own module here.
"""

from graphlang.controls.feature import install

__all__ = ["install"]

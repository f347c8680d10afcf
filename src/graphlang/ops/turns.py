"""Work done once per event-loop turn for all the requests the turn answered.

Under load one turn of the event loop answers many requests (every connection that had one
ready). The application shows its observers (the access log, metrics, the journal) the turn's
responses together at its end, a moment after the responses have gone out, so that what each request
would otherwise write on its own (an access line, a metric sample in a shared file) is written once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

# A flush scheduled on a loop that was torn down before running it is made up for this late.
OVERDUE_SECONDS = 1.0


class EndOfTurn:
    """Calls ``flush`` once at the end of the current turn of the running event loop, however many
    times ``schedule`` is called in it; at once when no loop is running."""

    __slots__ = ("_due", "_flush")

    def __init__(self, flush: Callable[[], None]) -> None:
        self._flush = flush
        self._due: float | None = None  # when the scheduled flush is overdue; None: none scheduled

    def schedule(self) -> None:
        if self._due is not None:
            if time.monotonic() < self._due:
                return
            self.flush()  # the loop it was scheduled on never ran it
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._due = time.monotonic() + OVERDUE_SECONDS
        loop.call_soon(self.flush)

    def flush(self) -> None:
        self._due = None
        self._flush()

"""Work done once at the end of an event-loop turn, for all the requests the turn answered."""

from __future__ import annotations

import asyncio
import time

import pytest

from graphlang.ops import turns
from graphlang.ops.turns import EndOfTurn


def test_schedules_in_one_turn_flush_once_at_its_end() -> None:
    flushes: list[int] = []
    end = EndOfTurn(lambda: flushes.append(1))

    async def one_turn() -> None:
        for _ in range(5):
            end.schedule()
        assert flushes == []
        await asyncio.sleep(0)
        assert flushes == [1]
        end.schedule()  # the next turn gets a flush of its own
        await asyncio.sleep(0)
        assert flushes == [1, 1]

    asyncio.run(one_turn())


def test_without_a_running_loop_it_flushes_at_once() -> None:
    flushes: list[int] = []
    EndOfTurn(lambda: flushes.append(1)).schedule()
    assert flushes == [1]


def test_a_flush_whose_loop_never_ran_it_is_made_up_once_overdue(monkeypatch: pytest.MonkeyPatch) -> None:
    flushes: list[int] = []
    end = EndOfTurn(lambda: flushes.append(1))

    loop = asyncio.new_event_loop()

    def last_turn() -> None:
        end.schedule()
        loop.stop()  # the flush was queued for a turn that never comes

    loop.call_soon(last_turn)
    loop.run_forever()
    loop.close()
    end.schedule()
    assert flushes == []  # not overdue yet: the flush may still come
    later = time.monotonic() + turns.OVERDUE_SECONDS + 1
    monkeypatch.setattr(turns.time, "monotonic", lambda: later)
    end.schedule()
    assert flushes == [1]

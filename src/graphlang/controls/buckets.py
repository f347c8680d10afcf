"""Token buckets for throttling, behind one small interface: in process memory, or in Redis so that
every instance of a deployment draws from the same buckets.

A request takes one token from each of its buckets (its user's and its application's) or from none:
a request refused by one bucket does not drain the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("graphlang.throttle")

REDIS_PREFIX = "graphlang:throttle:"


@dataclass(frozen=True, slots=True)
class Bucket:
    key: str
    capacity: int  # tokens when full: the burst one caller may send
    per_second: float  # refill rate

    @property
    def seconds_to_full(self) -> float:
        return self.capacity / self.per_second


class BucketStore(Protocol):
    async def take(self, buckets: Sequence[Bucket]) -> list[float]:
        """Take one token from every bucket, or from none. Returns, per bucket, the seconds until it
        holds a token again: all zero when the tokens were taken."""

    async def clear(self) -> None:
        """Refill every bucket (forget all of them)."""


class MemoryBuckets:
    """Buckets of this process. Guards run on the event loop, so ``take`` is atomic without a lock."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_buckets: int = 100_000) -> None:
        self._clock = clock
        self._max_buckets = max_buckets
        self._levels: dict[str, tuple[float, float]] = {}  # key -> (tokens, when they were counted)

    async def take(self, buckets: Sequence[Bucket]) -> list[float]:
        now = self._clock()
        levels = [self._level(bucket, now) for bucket in buckets]
        waits = [0.0 if level >= 1 else (1 - level) / bucket.per_second
                 for bucket, level in zip(buckets, levels, strict=True)]
        if not any(waits):
            if len(self._levels) >= self._max_buckets:
                self._forget_full(now, buckets)
            for bucket, level in zip(buckets, levels, strict=True):
                self._levels[bucket.key] = (level - 1, now)
        return waits

    async def clear(self) -> None:
        self._levels.clear()

    def _level(self, bucket: Bucket, now: float) -> float:
        tokens, counted = self._levels.get(bucket.key, (float(bucket.capacity), now))
        return min(float(bucket.capacity), tokens + (now - counted) * bucket.per_second)

    def _forget_full(self, now: float, buckets: Sequence[Bucket]) -> None:
        # A full bucket is the same as no bucket; dropping those bounds memory without changing anything.
        horizon = max(bucket.seconds_to_full for bucket in buckets)
        self._levels = {key: value for key, value in self._levels.items() if now - value[1] < horizon}


# KEYS: the buckets. ARGV: capacity and tokens per millisecond of each bucket, in turn. Redis's own
# clock is the one clock every instance shares. Returns, per bucket, the milliseconds to wait.
_TAKE_SCRIPT = """
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local levels, waits, refused = {}, {}, false
for i, key in ipairs(KEYS) do
  local capacity, rate = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens, at = tonumber(state[1]) or capacity, tonumber(state[2]) or now
  levels[i] = math.min(capacity, tokens + math.max(0, now - at) * rate)
  if levels[i] >= 1 then
    waits[i] = 0
  else
    waits[i] = math.ceil((1 - levels[i]) / rate)
    refused = true
  end
end
if not refused then
  for i, key in ipairs(KEYS) do
    local capacity, rate = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
    redis.call('HSET', key, 'tokens', tostring(levels[i] - 1), 'at', now)
    redis.call('PEXPIRE', key, math.ceil(capacity / rate) + 1000)
  end
end
return waits
"""


class RedisBuckets:
    """Buckets shared by every instance through Redis, updated atomically by one Lua script.

    When Redis cannot be reached the request is admitted: throttling protects the service, and an
    outage of its helper must not become an outage of the service.
    """

    def __init__(self, url: str, prefix: str = REDIS_PREFIX) -> None:
        # Imported here: only deployments with Redis pay for the client (several MB in every process).
        import redis.asyncio
        from redis.exceptions import RedisError

        self._unavailable = RedisError
        self._client = redis.asyncio.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._script = self._client.register_script(_TAKE_SCRIPT)
        self._prefix = prefix

    async def take(self, buckets: Sequence[Bucket]) -> list[float]:
        keys = [self._prefix + bucket.key for bucket in buckets]
        args: list[float] = []
        for bucket in buckets:
            args += [bucket.capacity, bucket.per_second / 1000]
        try:
            waits = await self._script(keys=keys, args=args)
        except self._unavailable as exc:
            log.warning("throttling skipped: Redis is unavailable (%s)", type(exc).__name__)
            return [0.0] * len(buckets)
        return [int(wait) / 1000 for wait in waits]

    async def clear(self) -> None:
        keys = [key async for key in self._client.scan_iter(match=f"{self._prefix}*", count=1000)]
        if keys:
            await self._client.delete(*keys)

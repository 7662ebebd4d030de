import trio

from duo.ratelimit import Limit, MemoryCounter, RateLimitExceeded, RedisCounter, enforce
from duo.redis_client import open_redis

LIMIT = Limit(3, 60, "3 per 1 minute")


async def test_memory_window_starts_at_first_hit_and_resets() -> None:
    now = [1000.0]
    counter = MemoryCounter(clock=lambda: now[0])
    assert [await counter.hit("k", LIMIT) for _ in range(4)] == [True, True, True, False]
    now[0] += 59.9
    assert not await counter.hit("k", LIMIT)
    now[0] += 0.2  # 60.1 s after the first hit: a new window
    assert await counter.hit("k", LIMIT)
    assert await counter.hit("other", LIMIT)


async def test_enforce_counts_every_limit_and_names_the_exceeded_one() -> None:
    counter = MemoryCounter(clock=lambda: 0.0)
    small = Limit(1, 1, "1 per 1 second")
    await enforce(counter, "x", (LIMIT, small))
    try:
        await enforce(counter, "x", (LIMIT, small))
    except RateLimitExceeded as e:
        assert e.limit == small
    else:
        raise AssertionError("second hit should exceed 1 per second")
    # both earlier requests counted on the minute limit too: one hit left of three
    assert await counter.hit("3/60:x", LIMIT)
    assert not await counter.hit("3/60:x", LIMIT)


async def test_redis_counters_are_shared_between_processes(redis_url: str, aio_loop: None) -> None:
    with trio.fail_after(20):
        async with open_redis(redis_url) as first, open_redis(redis_url) as second:
            a, b = RedisCounter(first), RedisCounter(second)
            key = f"shared-{trio.current_time()}"
            assert await a.hit(key, LIMIT) and await b.hit(key, LIMIT) and await a.hit(key, LIMIT)
            assert not await b.hit(key, LIMIT)
            ttl = await aio_ttl(first, f"duo:rl:3/60:{key}")
            assert 0 < ttl <= 60


async def aio_ttl(client: object, name: str) -> int:
    from duo.aio import aio

    return int(await aio(client.ttl)(name))  # type: ignore[attr-defined]

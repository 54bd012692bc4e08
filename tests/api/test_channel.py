"""The broadcast channel on its own: events as bytes on the wire, encoded once for every
viewer, the newest frame only, and a keep-alive comment when nothing happens."""

import asyncio
import json
import threading

from backend.services.streams import KEEPALIVE, Channel
from backend.settings import Settings


def parse(raw: bytes) -> tuple[str, dict]:
    text = raw.decode()
    assert text.endswith("\n\n") and text.count("\n") == 3
    event, data = text.splitlines()[:2]
    assert event.startswith("event: ") and data.startswith("data: ")
    return event[len("event: "):], json.loads(data[len("data: "):])


def run(scenario, settings: Settings | None = None) -> None:
    """``scenario(channel)`` with a channel on a loop of its own, made with ``settings`` as
    the server makes it, closed afterwards; in a thread of its own: a test before may have
    left this thread's loop running."""
    settings = settings or Settings()
    errors = []

    async def with_channel():
        channel = Channel(settings.keepalive_seconds)
        try:
            await scenario(channel)
        finally:
            channel.close()

    def target():
        try:
            asyncio.run(with_channel())
        except BaseException as exc:  # handed to the test's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "the scenario did not finish"
    if errors:
        raise errors[0]


async def take(items, n: int) -> list:
    got = []
    async for item in items:
        got.append(item)
        if len(got) == n:
            return got
    return got


def test_events_are_encoded_once_and_shared_by_every_viewer():
    async def scenario(channel):
        first, second = channel.listen(None, 0), channel.listen(("grid",), 0)
        a, b = asyncio.ensure_future(take(first, 2)), asyncio.ensure_future(take(second, 2))
        await asyncio.sleep(0.01)
        channel.publish("progress", {None: '{"epoch": 1}', ("grid",): '{"epoch": 1, "g": [1]}'})
        channel.publish("done", json.dumps({"reason": "finished", "text": "line\nbreak"}))
        (p1, d1), (p2, d2) = await a, await b
        assert parse(p1) == ("progress", {"epoch": 1})
        assert parse(p2) == ("progress", {"epoch": 1, "g": [1]})
        assert d1 is d2  # the very same bytes for both viewers
        assert parse(d1) == ("done", {"reason": "finished", "text": "line\nbreak"})

    run(scenario)


def test_a_quiet_channel_sends_keepalive_comments_as_often_as_the_setting_says():
    async def scenario(channel):
        assert channel.keepalive_seconds == 0.05
        items = channel.listen(None, 0)
        loop = asyncio.get_running_loop()
        began = loop.time()
        assert await take(items, 2) == [KEEPALIVE, KEEPALIVE]
        assert loop.time() - began >= 2 * 0.05  # not sooner than the setting
        # The viewer is suspended at its second keep-alive; an event published meanwhile is
        # the very next thing it gets (no keep-alive first: it has something to send).
        channel.publish("snapshot", "{}")
        got = await take(items, 1)
        assert parse(got[0]) == ("snapshot", {})
        channel.close()
        assert channel.viewers == 1  # until the generator is closed
        await items.aclose()
        assert channel.viewers == 0

    run(scenario, Settings(keepalive_seconds=0.05))


def test_the_keepalive_follows_the_environment_setting():
    settings = Settings.from_env({"PLAYGROUND_KEEPALIVE_SECONDS": "0.03"})

    async def scenario(channel):
        items = channel.listen(None, 0)
        # At the default 15 s this would not come within the scenario's 10 s.
        assert await asyncio.wait_for(take(items, 1), 5) == [KEEPALIVE]
        await items.aclose()

    run(scenario, settings)


def test_a_channel_made_without_the_setting_uses_its_default():
    assert Channel().keepalive_seconds == Settings().keepalive_seconds == 15.0


def test_a_viewer_that_is_behind_gets_only_the_newest_frame():
    async def scenario(channel):
        for epoch in range(5):
            channel.publish("progress", json.dumps({"epoch": epoch}))
        channel.publish("done", "{}")
        got = await take(channel.listen(None, 0), 2)
        assert [parse(raw) for raw in got] == [("progress", {"epoch": 4}), ("done", {})]

    run(scenario)


def test_a_viewer_leaving_during_a_keepalive_leaves_nothing_behind():
    async def scenario(channel):
        items = channel.listen(None, 0)
        assert await take(items, 1) == [KEEPALIVE]  # suspended at the keep-alive
        await items.aclose()
        assert channel.viewers == 0 and not channel._waiters

    run(scenario, Settings(keepalive_seconds=0.01))


def test_viewers_on_other_event_loops_are_woken_on_their_own():
    """A Ray host's feed waits on a loop of its own, beside the host's main loop: an event
    published from a third thread wakes the viewers of both, each on its loop."""
    channel = Channel(keepalive_seconds=30)
    got: dict[str, list] = {}
    waiting = threading.Barrier(3)

    def viewer(name: str) -> None:
        async def follow():
            items = channel.listen(None, 0)
            first = asyncio.ensure_future(take(items, 1))
            await asyncio.sleep(0.05)  # suspended in the channel's wait
            await asyncio.get_running_loop().run_in_executor(None, waiting.wait)
            got[name] = await asyncio.wait_for(first, 10)
            await items.aclose()

        asyncio.run(follow())

    threads = [threading.Thread(target=viewer, args=(name,)) for name in ("main", "feed")]
    for thread in threads:
        thread.start()
    waiting.wait(10)
    channel.publish("progress", json.dumps({"epoch": 1}))
    for thread in threads:
        thread.join(15)
    assert {name: [parse(raw) for raw in items] for name, items in got.items()} == {
        "main": [("progress", {"epoch": 1})], "feed": [("progress", {"epoch": 1})]}
    assert channel.viewers == 0 and not channel._waiters

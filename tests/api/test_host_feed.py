"""A Ray host's feed, in this process (no Ray needed): a replica's long poll waits for news of
the networks it follows, and a nudge (a viewer asked for something new) answers it at once."""

import asyncio
import json

from backend.engine.host import Host
from backend.engine.inprocess import Request
from backend.settings import Settings

JSON = [(b"content-type", b"application/json")]


def test_a_nudge_answers_the_poll_under_way_at_once_or_else_the_next_one(tmp_path):
    async def scenario():
        host = Host(Settings(db=str(tmp_path / "feed.db")), 0, 1)
        await host.ready()
        try:
            made = await host.handle(Request("POST", "/api/networks", headers=JSON,
                                              body=json.dumps({"dataset": {"name": "xor"},
                                                               "hidden": [2]}).encode()))
            network_id = json.loads(made.body)["id"]
            opened, incarnation = await host.open_stream(
                Request("GET", f"/api/networks/{network_id}/events"), "replica-a")
            follows = {network_id: (json.loads(opened.body)["after"], {None: 1})}

            def poll():
                return asyncio.ensure_future(host.poll("replica-a", follows, 60))

            waiting = poll()
            await asyncio.sleep(0.3)
            assert not waiting.done()  # nothing happens to the network: it waits
            await host.nudge("replica-a")
            assert await asyncio.wait_for(waiting, 10) == {"incarnation": incarnation,
                                                           "networks": {}}
            await host.nudge("replica-a")  # before the next poll: that one answers at once
            assert (await asyncio.wait_for(poll(), 10))["networks"] == {}
            waiting = poll()  # and the one after waits again
            await asyncio.sleep(0.3)
            assert not waiting.done()
            waiting.cancel()
        finally:
            await host.shutdown()

    asyncio.run(scenario())

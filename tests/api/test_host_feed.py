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


def test_requests_sent_together_come_back_together_and_a_slow_one_on_its_own(tmp_path):
    """A replica sends the requests that arrive together in one call (Host.handle_many): the
    quick answers come back at once, a long step is collected afterwards (Host.collect), and
    its client leaving still ends it early."""
    async def scenario():
        host = Host(Settings(db=str(tmp_path / "batch.db")), 0, 1)
        await host.ready()
        try:
            async def make():
                return json.loads((await host.handle(Request(
                    "POST", "/api/networks", headers=JSON, body=json.dumps(
                        {"dataset": {"name": "spiral"}, "hidden": [8, 8]}).encode()))).body)

            made, other = await make(), await make()
            owner = [*JSON, (b"authorization", f"Bearer {made['token']}".encode())]
            long_step = Request("POST", f"/api/networks/{made['id']}/step", headers=owner,
                                body=json.dumps({"epochs": 10_000}).encode())
            history = Request("GET", f"/api/networks/{other['id']}/history")
            missing = Request("GET", "/api/networks/nope")
            began = asyncio.get_running_loop().time()
            step_answer, read, not_found = await asyncio.wait_for(
                host.handle_many([long_step, history, missing]), 10)
            assert asyncio.get_running_loop().time() - began < 1.0
            assert step_answer is None  # still running: collected below
            assert read.status == 200 and "train_loss" in json.loads(read.body)
            assert not_found.status == 404

            collecting = asyncio.ensure_future(host.collect(long_step.id))
            await asyncio.sleep(0.3)
            assert not collecting.done()
            await host.client_left(long_step.id)  # its client hangs up: it ends, keeping
            stepped = await asyncio.wait_for(collecting, 10)  # what it did
            assert stepped.status == 200
            assert json.loads(stepped.body)["epoch"] > 0
            assert await host.collect(long_step.id) is None  # collected once
        finally:
            await host.shutdown()

    asyncio.run(scenario())


def test_a_host_keeps_the_apps_worker_threads_between_requests(tmp_path):
    """As Ray runs an actor: its event loop in a thread of its own (run_forever), each call a
    task made from another thread. The app's sync routes run in AnyIO's worker threads, which
    must serve the next request too, not be started and stopped for each."""
    import threading

    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()

    def call(coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(30)

    host = Host(Settings(db=str(tmp_path / "threads.db")), 0, 1)
    try:
        call(host.ready())
        made = call(host.handle(Request("POST", "/api/networks", headers=JSON, body=json.dumps(
            {"dataset": {"name": "xor"}, "hidden": [2]}).encode())))
        url = f"/api/networks/{json.loads(made.body)['id']}/boundary"
        workers = set()
        for _ in range(20):  # four at once: three more threads than one request needs
            answers = call(host.handle_many([Request("GET", url, b"resolution=20")
                                             for _ in range(4)]))
            assert [a.status for a in answers] == [200] * 4
            workers |= {t.native_id for t in threading.enumerate()
                        if t.name.startswith("AnyIO worker")}
        assert 1 <= len(workers) <= 8  # (started and stopped for each request: about 60)
    finally:
        call(host.shutdown())
        loop.call_soon_threadsafe(loop.stop)
        runner.join(10)

"""A replica's line to one host (cluster.HostLine), with a stand-in for the host's Ray handle:
requests that come in together go in one call, at most CALLS_PER_HOST calls are under way,
those that come in meanwhile go together in the next, and an answer the host had not finished
is collected by a call of its own."""

import asyncio

from backend.engine.cluster import CALLS_PER_HOST, HostDied, HostLine
from backend.engine.inprocess import Answer, Request


class Method:
    """A Ray actor method: ``remote(...)`` is a call under way, ended by the test."""

    def __init__(self):
        self.calls: list[tuple[tuple, asyncio.Future]] = []

    def remote(self, *args):
        future = asyncio.get_running_loop().create_future()
        self.calls.append((args, future))
        return future


class Host:
    def __init__(self):
        self.handle_many = Method()
        self.collect = Method()


def answer(request: Request) -> Answer:
    return Answer(200, [], request.path.encode())


def test_requests_go_together_and_wait_for_a_call_to_end_past_the_cap():
    assert CALLS_PER_HOST == 2

    async def scenario():
        host = Host()
        line = HostLine(host)
        first = [Request("GET", f"/a{i}") for i in range(2)]
        answers = [line.ask(r) for r in first]  # in the same turn: one call
        await asyncio.sleep(0.01)
        assert [args[0] for args, _ in host.handle_many.calls] == [first]
        second = Request("GET", "/b")
        answers.append(line.ask(second))
        await asyncio.sleep(0.01)
        assert len(host.handle_many.calls) == 2  # two under way: the cap
        later = [Request("GET", f"/c{i}") for i in range(3)]
        answers += [line.ask(r) for r in later]
        await asyncio.sleep(0.01)
        assert len(host.handle_many.calls) == 2  # they wait for a call to end

        host.handle_many.calls[0][1].set_result([answer(r) for r in first])
        await asyncio.sleep(0.01)
        assert [a.result().body for a in answers[:2]] == [b"/a0", b"/a1"]
        assert host.handle_many.calls[2][0][0] == later  # together, in the next call

        # The host had not finished /c1 when the others were ready: collected on its own.
        host.handle_many.calls[2][1].set_result([answer(later[0]), None, answer(later[2])])
        await asyncio.sleep(0.01)
        assert [args for args, _ in host.collect.calls] == [(later[1].id,)]
        assert not answers[4].done()
        host.collect.calls[0][1].set_result(answer(later[1]))
        host.handle_many.calls[1][1].set_result([answer(second)])
        await asyncio.sleep(0.01)
        assert [a.result().body for a in answers] == [b"/a0", b"/a1", b"/b", b"/c0", b"/c1",
                                                      b"/c2"]

    asyncio.run(scenario())


def test_a_failed_call_fails_each_of_its_requests_and_an_unknown_collect_is_a_dead_host():
    async def scenario():
        host = Host()
        line = HostLine(host)
        failed = [line.ask(Request("GET", "/x")), line.ask(Request("GET", "/y"))]
        await asyncio.sleep(0.01)
        host.handle_many.calls[0][1].set_exception(ConnectionError("host gone"))
        for f in failed:
            try:
                await f
            except ConnectionError:
                pass
            else:
                raise AssertionError("the call's error reaches every request")
        late = line.ask(Request("GET", "/z"))
        await asyncio.sleep(0.01)  # the line is free again: sent at once
        host.handle_many.calls[1][1].set_result([None])
        await asyncio.sleep(0.01)
        host.collect.calls[0][1].set_result(None)  # the host was started again meanwhile
        try:
            await late
        except HostDied:
            pass
        else:
            raise AssertionError("an answer lost with its host is HostDied")

    asyncio.run(scenario())

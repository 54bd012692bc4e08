"""A failover TCP proxy for the tests: each connection goes to the first upstream that takes
it, as a proxy with health checks sends traffic only to a replica that answers."""

from __future__ import annotations

import asyncio
import contextlib
import threading

from tests.conftest import free_port


class FailoverProxy:
    def __init__(self, upstreams: list[tuple[str, int]]):
        self.upstreams = upstreams
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self._thread.start()
        started.wait(10)

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._connect, "127.0.0.1", self.port))
        started.set()
        self._loop.run_forever()

    async def _connect(self, reader, writer) -> None:
        for host, port in self.upstreams:
            try:
                up_reader, up_writer = await asyncio.open_connection(host, port)
                break
            except OSError:
                continue
        else:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    def close(self) -> None:
        async def shut() -> None:
            self._server.close()
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.cancel()
            self._loop.stop()

        asyncio.run_coroutine_threadsafe(shut(), self._loop)
        self._thread.join(5)


async def _pipe(reader, writer) -> None:
    """Copy until either side goes away, then close the writing side (the other pipe ends)."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()

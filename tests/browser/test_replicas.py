"""The page behind a proxy in front of two API replicas of the Ray engine: when the replica
it streams from dies, its stream comes back on its own through the other one."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import Playground
from tests.conftest import start_server
from tests.proxy import FailoverProxy
from tests.raycluster import start_head

pytestmark = pytest.mark.parametrize("engine", ["ray"], indirect=True)


def test_the_page_stream_reconnects_to_the_replica_that_answers(page, tmp_path, engine,
                                                                output_dir):
    head = start_head(tmp_path / "head.log")
    replicas, proxy = [], None
    try:
        for name in ("a", "b"):
            replicas.append(start_server(tmp_path / "playground.db", tmp_path / f"{name}.log",
                                         engine="ray", ray_address=head.address,
                                         env=head.env))
        proxy = FailoverProxy([(urlsplit(r.url).hostname, urlsplit(r.url).port)
                               for r in replicas])
        playground = Playground(page, proxy).open()
        page.click("[data-testid=play]")
        playground.wait_network("s.state.status === 'training' && s.state.epoch > 0")
        playground.wait("() => document.getElementById('server-status').dataset.status "
                        "=== 'live'")

        replicas[0].stop("kill")  # the replica every connection went to
        before = playground.state["epoch"]
        # Only a stream brings the epochs of a run: a new one, through the other replica.
        playground.wait(f"() => window.playground.state.epoch > {before} + 30 && "
                        "document.getElementById('server-status').dataset.status === 'live'",
                        timeout=30_000)
        # The frames after the gap had the chart fetch the whole history again.
        playground.wait(f"() => {{ const h = window.playground.history; "
                        f"return !!h && h.epoch.length > 30 && h.epoch.at(-1) > {before}; }}",
                        timeout=20_000)
        page.screenshot(path=str(output_dir / "replica-killed-stream-back.png"))
        page.click("[data-testid=play]")  # pause: the run stops through the replica left
        playground.wait_network("s.state.status === 'idle'")
    finally:
        if proxy is not None:
            proxy.close()
        for replica in replicas:
            replica.stop(timeout=30)
        head.stop()

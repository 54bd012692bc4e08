"""The README's picture of the page: `python -m tests.browser.readme_screenshot`.

Starts the real server on a fresh database, opens the page at 1366 x 768 in Chromium, trains
the default network for a few hundred epochs, pauses, and saves docs/page-1366x768.png.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser.conftest import READY
from tests.browser_check import find_chromium
from tests.conftest import REPO, start_server

PICTURE = REPO / "docs" / "page-1366x768.png"


def main() -> int:
    executable = find_chromium()
    if executable is None:
        print("no Chromium installed (apt-get install -y chromium)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "playground.db", Path(tmp) / "server.log")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=executable,
                                            args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1366, "height": 768})
                page.goto(server.url + "/")
                page.wait_for_function(READY, timeout=15_000)
                page.click("[data-testid=play]")
                page.wait_for_function("() => window.playground.state.epoch >= 300",
                                       timeout=30_000)
                page.click("[data-testid=play]")
                page.wait_for_function("() => window.playground.state.status === 'idle' "
                                       "&& !window.playground.gridsInFlight")
                page.wait_for_timeout(500)
                page.evaluate("() => document.querySelector('.banner-close')?.click()")
                page.mouse.move(0, 760)
                page.wait_for_timeout(300)
                page.screenshot(path=PICTURE)
                browser.close()
        finally:
            server.stop()
    print(f"wrote {PICTURE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

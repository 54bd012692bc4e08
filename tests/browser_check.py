"""Tell whether a Chromium for the browser tests is installed, and how to get one.

Exit status 1 only under CI=true (there a missing browser is a failure, not a skip).
"""

import os
import shutil
import sys

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    explicit = os.environ.get("PLAYGROUND_CHROMIUM")
    if explicit:
        return explicit if os.path.exists(explicit) else None
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


if __name__ == "__main__":
    path = find_chromium()
    if path:
        print(f"browser tests use {path}")
        sys.exit(0)
    print(
        "No Chromium found: the browser tests will be skipped.\n"
        "Install one with:  sudo apt-get install -y chromium   "
        "(or set PLAYGROUND_CHROMIUM to a Chromium binary).",
        file=sys.stderr,
    )
    sys.exit(1 if os.environ.get("CI") == "true" else 0)

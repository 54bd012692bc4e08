"""The API examples in the docs run as written against the real server."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.server, pytest.mark.both_engines]


def test_python_session_runs(live_server):
    out = subprocess.run([sys.executable, str(REPO / "docs/examples/xor_session.py"),
                          live_server.url], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "done: finished" in out.stdout
    assert "'classes': [0, 1, 1, 0]" in out.stdout


def test_curl_session_runs(live_server):
    script = (REPO / "docs/examples/curl_session.sh").read_text()
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                         env={"PLAYGROUND": live_server.url, "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert "event: done" in out.stdout

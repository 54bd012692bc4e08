"""The README's code runs as written: its Python and curl sessions against the real server,
its core snippet on its own."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

README = (REPO / "README.md").read_text()
DEFAULT = "http://127.0.0.1:8000"


def section(title: str) -> str:
    """The text of the README section ``## title``, up to the next one."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end != -1 else None]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, re.M | re.S)


def test_the_quick_start_is_still_two_commands():
    (quick,) = blocks(section("Quick start"), "sh")
    assert [line.split("#")[0].strip() for line in quick.splitlines()] == ["make run",
                                                                           "make test"]


@pytest.mark.server
def test_the_python_session_runs_against_the_server(live_server):
    (code,) = blocks(section("The HTTP API"), "python")
    assert "timeout=None" in code  # an idle stream is quiet for 15 s between keep-alives
    assert code.count(DEFAULT) == 1
    out = subprocess.run([sys.executable, "-c", code.replace(DEFAULT, live_server.url)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "done: finished" in out.stdout
    assert "'classes': [0, 1, 1, 0]" in out.stdout


@pytest.mark.server
def test_the_python_session_sees_the_end_of_a_run_over_before_the_stream_opened(live_server):
    """The run ends (a small network trains in milliseconds) before the stream opens: the
    snapshot says so, rather than the session waiting for a `done` that was sent already."""
    (code,) = blocks(section("The HTTP API"), "python")
    code = code.replace(DEFAULT, live_server.url)
    opening = 'with api.stream("GET", f"{net}/events", timeout=None) as stream:'
    assert code.count(opening) == 1
    # Wait until the run is over before opening the stream.
    code = code.replace(opening, "import time\nwhile api.get(net).json()['status'] != 'idle':\n"
                        "    time.sleep(0.05)\n" + opening)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "done: finished" in out.stdout


@pytest.mark.server
def test_the_curl_lines_paste_and_run(live_server):
    (script,) = blocks(section("The HTTP API"), "sh")
    assert "<" not in script.replace("$(", "")  # no <id> or <token> read as a redirection
    assert script.startswith(f"P={DEFAULT}\n")
    script = script.replace(f"P={DEFAULT}", f"P={live_server.url}")
    # The stream never ends on its own (the README says Ctrl+C): here it ends after 3 s.
    assert script.count("curl -sN ") == 1
    script = script.replace("curl -sN ", "curl -sN --max-time 3 ")
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 28, out.stderr  # curl's "timed out": only the stream's end
    assert out.stderr == ""
    lines = out.stdout.splitlines()
    assert '"detail"' not in out.stdout, out.stdout  # no error answer
    assert lines[0].startswith('{"') and '"layers"' in lines[0]  # forward's numbers
    assert '"status":"training"' in lines[3] or '"status":"queued"' in lines[3], lines[3]
    assert "event: snapshot" in lines[4:]


def test_the_core_snippet_runs_on_its_own():
    (code,) = blocks(section("Using the core on its own"), "python")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Finished 1000 epoch(s)" in out.stdout

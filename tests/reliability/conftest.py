"""The in-process API fixtures (tests/api/conftest.py) for the reliability tests too."""

from tests.api.conftest import client, make, settings  # noqa: F401 (fixtures)

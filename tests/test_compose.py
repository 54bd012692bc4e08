"""docker-compose.yml, deploy/Caddyfile and the Dockerfile, checked without Docker: plain
`docker compose up` is the one `playground` container; the `scale` profile is a Ray head, two
API replicas, PostgreSQL and a Caddy proxy, each with a health check."""

from __future__ import annotations

import json
import re
import tomllib

import pytest

from backend.engine.cluster import RAY_SYSTEM_CONFIG
from tests.conftest import REPO

yaml = pytest.importorskip("yaml")

SCALE = {"ray-head", "api-1", "api-2", "postgres", "proxy"}
REPLICAS = ("api-1", "api-2")
PG_URL = "postgresql://playground:playground@postgres:5432/playground"


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]


def command_text(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def closure(services: dict, name: str) -> set[str]:
    """``name`` and every service it depends on: what `docker compose up name` starts."""
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(services[current].get("depends_on") or [])
    return seen


def test_no_profile_is_the_single_playground_as_before(services):
    assert [name for name, s in services.items() if "profiles" not in s] == ["playground"]
    playground = services["playground"]
    assert playground["build"] == "."
    assert playground["ports"] == ["8000:8000"]
    assert playground["volumes"] == ["playground-data:/data"]
    assert set(playground) == {"build", "ports", "volumes", "environment", "healthcheck",
                               "restart"}


def test_the_scale_profile_is_exactly_its_five_services(services):
    assert {name for name, s in services.items() if "profiles" in s} == SCALE
    for name in SCALE:
        assert services[name]["profiles"] == ["scale"], name
    # `docker compose --profile scale up proxy` starts the profile without the playground,
    # whose port 8000 the proxy publishes.
    assert closure(services, "proxy") == SCALE
    assert services["proxy"]["ports"] == ["8000:8000"]


def test_every_service_has_a_health_check(services):
    for name, service in services.items():
        test = service["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name


def test_the_ray_services_run_the_image_with_the_extras(services):
    for name in ("ray-head", *REPLICAS):
        service = services[name]
        assert service["build"] == {"context": ".", "args": {"EXTRAS": "[ray,postgres]"}}
        assert service["shm_size"] == "2gb", name
        assert service["environment"]["RAY_AUTH_MODE"] == "disabled", name


def test_the_ray_head(services):
    head = services["ray-head"]
    command = command_text(head)
    assert command.startswith("ray start --head --port=6379 ")
    assert "--block" in command.split()
    # the same Ray settings as a Ray the server starts itself
    config = next(arg for arg in head["command"] if arg.startswith("--system-config="))
    assert json.loads(config.partition("=")[2]) == RAY_SYSTEM_CONFIG
    assert head["healthcheck"]["test"] == ["CMD", "ray", "health-check", "--address",
                                           "127.0.0.1:6379"]


def test_the_replicas_join_the_head_and_share_postgres(services):
    pg = services["postgres"]["environment"]
    url = (f"postgresql://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}"
           f"@postgres:5432/{pg['POSTGRES_DB']}")
    assert url == PG_URL
    for name in REPLICAS:
        replica = services[name]
        command = command_text(replica)
        assert re.search(r"ray start --address=ray-head:6379 .*&& exec python -m backend ",
                         command), command
        server = command.split("&& exec ", 1)[1].split()
        for flag, value in (("--engine", "ray"), ("--ray-address", "ray-head:6379"),
                            ("--db", PG_URL), ("--host", "0.0.0.0"), ("--port", "8000")):
            assert server[server.index(flag) + 1] == value, (name, flag)
        assert replica["depends_on"] == {"postgres": {"condition": "service_healthy"},
                                         "ray-head": {"condition": "service_healthy"}}
        assert "/api/health" in " ".join(replica["healthcheck"]["test"])


def test_postgres(services):
    pg = services["postgres"]
    assert pg["image"] == "postgres:16"
    assert pg["volumes"] == ["postgres-data:/var/lib/postgresql/data"]
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    assert "postgres-data" in yaml.safe_load((REPO / "docker-compose.yml").read_text())["volumes"]


def test_the_proxy_balances_the_replicas_with_health_checks(services):
    proxy = services["proxy"]
    assert proxy["image"] == "caddy:2"
    assert proxy["volumes"] == ["./deploy/Caddyfile:/etc/caddy/Caddyfile:ro"]
    assert proxy["depends_on"] == {name: {"condition": "service_healthy"} for name in REPLICAS}

    text = (REPO / "deploy" / "Caddyfile").read_text()
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    assert text.count("{") == text.count("}")
    assert lines[0] == ":8000 {"
    assert "reverse_proxy api-1:8000 api-2:8000 {" in lines
    for directive in ("health_uri /api/health", "flush_interval -1", "Host localhost"):
        assert directive in lines, directive


def test_the_default_image_installs_the_app_alone():
    text = (REPO / "Dockerfile").read_text()
    assert 'ARG EXTRAS=""' in text
    assert 'pip install --no-cache-dir ".${EXTRAS}"' in text  # "." when EXTRAS is empty


def test_the_extras_exist_in_pyproject(services):
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    wanted = services["ray-head"]["build"]["args"]["EXTRAS"].strip("[]").split(",")
    assert "postgres" in extras
    if "ray" not in extras:
        pytest.skip("the `ray` extra comes with the Ray engine")
    assert set(wanted) <= set(extras)

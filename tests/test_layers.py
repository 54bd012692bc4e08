"""The layers of docs/ARCHITECTURE.md, read from the source: each package imports only from
the layers beneath it (the core from nothing but NumPy and itself; Numba only in the modules
that hold the optional accelerator)."""

import ast
from pathlib import Path

import pytest

BACKEND = Path(__file__).resolve().parents[1] / "backend"

# What each layer may import from this project; everything else of ``backend`` is refused.
ALLOWED = {
    "core": ("backend.core",),
    "services": ("backend.core", "backend.services", "backend.settings", "backend.allocator"),
    "api": ("backend.core", "backend.services", "backend.api", "backend.settings",
            "backend.sharing", "backend.netinfo", "backend.__version__"),
    # The Ray engine runs the app in its hosts and puts a gateway in front of it in replicas.
    "engine": ("backend.core", "backend.services", "backend.api", "backend.engine",
               "backend.settings", "backend.allocator"),
}
# The core's only third-party import is NumPy; Numba lives behind backend.core.accelerator.
CORE_THIRD_PARTY = {"numpy"}
NUMBA_MODULES = {"kernel.py"}


def imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module == "backend":
            names += [f"backend.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; the layers use absolute ones")
    return names


def sources(layer: str) -> list[Path]:
    return sorted((BACKEND / layer).rglob("*.py"))


def upward(path: Path, layer: str) -> list[tuple[str, str]]:
    """The imports of ``path`` that reach a part of ``backend`` its layer may not use."""
    return [(path.name, name) for name in imports(path)
            if name.startswith("backend.") and not name.startswith(ALLOWED[layer])]


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_the_layers_beneath_it(layer):
    assert [wrong for path in sources(layer) for wrong in upward(path, layer)] == []


def test_the_core_needs_only_numpy_and_the_standard_library():
    import sys
    stdlib = set(sys.stdlib_module_names)
    wrong = []
    for path in sources("core"):
        for name in imports(path):
            top = name.split(".")[0]
            if top in stdlib or top == "backend" or top in CORE_THIRD_PARTY:
                continue
            if top == "numba" and path.name in NUMBA_MODULES:
                continue
            wrong.append((path.name, name))
    assert wrong == []


def test_a_layer_that_imported_upwards_would_be_caught(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from backend.api.deps import Services\nimport fastapi\n"
                   "from backend import serve\n")
    assert imports(bad) == ["backend.api.deps", "fastapi", "backend.serve"]
    assert upward(bad, "services") == [("bad.py", "backend.api.deps"), ("bad.py", "backend.serve")]
    assert upward(bad, "api") == [("bad.py", "backend.serve")]

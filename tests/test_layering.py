"""The design's layering rules, checked in fresh interpreters and on the source."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import subprocess_env

SRC = Path(__file__).resolve().parents[1] / "src" / "nba_mcp_deploy"
# The core: pure Python and the numeric stack. The neutral modules are what every layer may use.
CORE_PACKAGES = ("serving", "registry", "monitoring", "experiments", "dashboard")
NEUTRAL_MODULES = ("clock", "errors", "identifiers", "logs", "operations", "paths", "promotion", "worker")
# Adapters, the server and the composition root: the core never imports them.
OUTER = (
    "stores",
    "replicas",
    "mlflow_sync",
    "loading",
    "notify",
    "server",
    "codecs",
    "services",
    "host",
    "cli",
    "demo",
    "__main__",
    "api",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> list[str]:
    return sorted(module_name(p) for p in SRC.rglob("*.py"))


def core_files() -> list[Path]:
    files = [p for package in CORE_PACKAGES for p in (SRC / package).rglob("*.py")]
    return sorted(files + [SRC / f"{name}.py" for name in NEUTRAL_MODULES])


def imported_names(path: Path) -> set[str]:
    """Every module a file imports anywhere (module level, functions, TYPE_CHECKING blocks)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def forbidden_for_core(name: str) -> bool:
    top = name.split(".")
    if top[0] in ("mcp", "mlflow"):
        return True
    return top[0] == "nba_mcp_deploy" and len(top) > 1 and top[1] in OUTER


def modules_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=subprocess_env()
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_core_imports_no_adapter_no_server_and_neither_mcp_nor_mlflow() -> None:
    violations = sorted(
        f"{module_name(path)} imports {name}"
        for path in core_files()
        for name in imported_names(path)
        if forbidden_for_core(name)
    )
    assert violations == []


def test_the_layering_check_sees_a_forbidden_import() -> None:
    assert forbidden_for_core("nba_mcp_deploy.replicas.traffic")
    assert forbidden_for_core("mlflow.pyfunc")
    assert not forbidden_for_core("nba_mcp_deploy.serving.counts")
    assert "nba_mcp_deploy.serving.manager" in {module_name(p) for p in core_files()}


# Loaded once before forking: third-party packages only, never this project's modules.
IMPORT_ALONE = """
import importlib, json, os, sys
import numpy, pandas, scipy.stats, sklearn.base, pydantic, sqlalchemy, starlette, mcp, mlflow
assert not [m for m in sys.modules if m.startswith("nba_mcp_deploy")]
failures = []
for name in json.loads(sys.argv[1]):
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException as exc:
            print(f"{name}: {type(exc).__name__}: {exc}", flush=True)
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status:
        failures.append(name)
print(json.dumps(failures))
"""


def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    """An import cycle shows only when its modules are imported in a particular order: each
    module is imported first, in a process that has loaded none of this package."""
    modules = [m for m in all_modules() if m != "nba_mcp_deploy.__main__"]  # runs the command
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_ALONE, json.dumps(modules)],
        capture_output=True,
        text=True,
        check=True,
        env=subprocess_env(),
        timeout=600,
    )
    *errors, last = out.stdout.strip().splitlines()
    assert json.loads(last) == [], "\n".join(errors)
    assert len(modules) > 150


@pytest.mark.parametrize(
    "package",
    [
        *(f"nba_mcp_deploy.{p}" for p in CORE_PACKAGES),
        "nba_mcp_deploy.access",
        "nba_mcp_deploy.codecs.open_inference",
        "nba_mcp_deploy.codecs.mlflow_scoring",
    ],
)
def test_core_packages_import_neither_mcp_nor_mlflow(package: str) -> None:
    loaded = modules_after(f"import {package}")
    assert package in loaded
    assert not {m for m in loaded if m == "mcp" or m.startswith(("mcp.", "mlflow"))}


def test_server_start_up_imports_nothing_heavy() -> None:
    loaded = modules_after(
        "from nba_mcp_deploy.host import ServiceHost\n"
        "from nba_mcp_deploy.server.app import build_server\n"
        "from nba_mcp_deploy.config import DeploymentConfig\n"
        "build_server(ServiceHost(DeploymentConfig()))"
    )
    heavy = {"numpy", "pandas", "scipy", "sklearn", "mlflow", "skops"}
    assert not heavy & {m.split(".")[0] for m in loaded}


HEAVY = {"numpy", "pandas", "scipy", "sklearn", "mlflow", "skops", "sqlalchemy"}


def test_importing_the_package_and_the_decorators_imports_nothing_heavy() -> None:
    """The seed's names load lazily: the package, and decorating functions at import time, stay cheap."""
    loaded = modules_after(
        "import nba_mcp_deploy\n"
        "from nba_mcp_deploy import Permission, handle_errors, require_permission, track_metric\n"
        "@handle_errors(reraise=True, notify=True)\n"
        "@track_metric('seed.op')\n"
        "@require_permission(Permission.WRITE)\n"
        "def op() -> int:\n"
        "    return 1\n"
        "assert op() == 1"
    )
    assert not HEAVY & {m.split(".")[0] for m in loaded}
    assert "nba_mcp_deploy.api.serving" not in loaded


def test_a_facade_name_loads_its_module_on_first_use() -> None:
    loaded = modules_after("from nba_mcp_deploy import ModelServingManager")
    assert "nba_mcp_deploy.api.serving" in loaded
    assert "mlflow" not in loaded  # MLflow loads only when an object turns it on


def reads_environment(path: Path) -> bool:
    """Whether the module's code (not its docstrings) touches os.environ or os.getenv."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"):
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and {a.name for a in node.names} & {"environ", "getenv"}
        ):
            return True
    return False


def test_only_the_entry_points_read_the_environment() -> None:
    """The command (cli.py) and the Python API (a script building ModelServingManager() is an
    entry point too: api/environment.py reads the same variables through DeploymentConfig.from_env)."""
    readers = sorted(str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if reads_environment(p))
    assert readers == ["api/environment.py", "cli.py"]


def imports_mlflow(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "mlflow" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "mlflow":
            return True
    return False


def test_only_the_mlflow_adapter_imports_mlflow() -> None:
    importers = sorted(str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if imports_mlflow(p))
    # the edge to MLflow, the MLflow model loader, and the NBA model builders (demo, tests, benchmarks)
    assert importers == [
        "loading/mlflow_models.py",
        "mlflow_sync/gateway.py",
        "mlflow_sync/importing.py",
        "nba_models.py",
    ]


def test_mlflow_disabled_imports_no_mlflow_and_the_adapter_imports_it_only_when_used(tmp_path: Path) -> None:
    loaded = modules_after(
        "from pathlib import Path\n"
        "from nba_mcp_deploy.config import DeploymentConfig\n"
        "from nba_mcp_deploy.services import build_services\n"
        f"build_services(DeploymentConfig(registry_dir=Path({str(tmp_path / 'off')!r}))).close()\n"
        "import nba_mcp_deploy.mlflow_sync.sync, nba_mcp_deploy.server.mlflow_tools"
    )
    assert not {m for m in loaded if m.startswith("mlflow")}
    enabled = modules_after(
        "from pathlib import Path\n"
        "from nba_mcp_deploy.config import DeploymentConfig\n"
        "from nba_mcp_deploy.services import build_services\n"
        f"config = DeploymentConfig(registry_dir=Path({str(tmp_path / 'on')!r}), enable_mlflow=True,\n"
        "    mlflow_tracking_uri='http://127.0.0.1:9')\n"
        "services = build_services(config)\n"
        "import sys; before = 'mlflow' in sys.modules\n"
        "services.close()\n"
        "assert not before, 'mlflow imported at start-up'"
    )
    assert "nba_mcp_deploy.mlflow_sync.sync" in enabled

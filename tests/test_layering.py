"""The design's layering rules, checked in fresh interpreters."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import subprocess_env


def modules_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=subprocess_env()
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "package",
    [
        "nba_mcp_deploy.serving.manager",
        "nba_mcp_deploy.registry",
        "nba_mcp_deploy.monitoring",
        "nba_mcp_deploy.experiments",
        "nba_mcp_deploy.dashboard.collect",
        "nba_mcp_deploy.dashboard.history",
        "nba_mcp_deploy.access",
        "nba_mcp_deploy.access.tokens",
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


def test_only_the_entry_point_reads_the_environment() -> None:
    src = Path(__file__).resolve().parents[1] / "src" / "nba_mcp_deploy"
    readers = sorted(str(p.relative_to(src)) for p in src.rglob("*.py") if reads_environment(p))
    assert readers == ["cli.py"]


def imports_mlflow(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "mlflow" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "mlflow":
            return True
    return False


def test_only_the_mlflow_adapter_imports_mlflow() -> None:
    src = Path(__file__).resolve().parents[1] / "src" / "nba_mcp_deploy"
    importers = sorted(str(p.relative_to(src)) for p in src.rglob("*.py") if imports_mlflow(p))
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

"""Virtual environments beside the project's for packages whose pins clash with it: KServe's
client (pandas<3) for the client tests, MLServer 1.7 for the HTTP benchmark. Each lives in a
gitignored `tools/.venv-<name>` and is created once (pip's cache makes a re-creation quick).

    python tools/side_venv.py kserve     # create it if missing; prints {"ok": ..., "python": ...}
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

TOOLS = Path(__file__).resolve().parent


@dataclass(frozen=True)
class SideVenv:
    """A named venv, the packages it needs, and a statement that imports them."""

    name: str
    requirements: tuple[str, ...]
    probe: str

    @property
    def path(self) -> Path:
        return TOOLS / f".venv-{self.name}"

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def works(self) -> bool:
        if not self.python.exists():
            return False
        done = subprocess.run([str(self.python), "-c", self.probe], capture_output=True, check=False)
        return done.returncode == 0

    def ensure(self) -> str | None:
        """Create the venv unless it already works; None when ready, else why it is not."""
        if self.works():
            return None
        steps = [
            [sys.executable, "-m", "venv", "--clear", str(self.path)],
            [str(self.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *self.requirements],
        ]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                return f"{' '.join(step[:5])} failed: {done.stderr.strip()[-500:]}"
        return None if self.works() else f"{self.name}: installed, but `{self.probe}` fails"


KSERVE = SideVenv("kserve", ("kserve==0.21.0",), "from kserve import InferenceRESTClient")
# uvloop 0.23 breaks MLServer's inference workers; 0.21 is what it was released with.
MLSERVER = SideVenv(
    "mlserver",
    ("mlserver==1.7.1", "mlserver-sklearn==1.7.1", "uvloop==0.21.0", "scikit-learn==1.9.1"),
    "import mlserver, mlserver_sklearn",
)
VENVS = {venv.name: venv for venv in (KSERVE, MLSERVER)}


def main() -> int:
    venv = VENVS[sys.argv[1]]
    problem = venv.ensure()
    print(json.dumps({"ok": problem is None, "python": str(venv.python), "problem": problem}))
    return 0 if problem is None else 1


if __name__ == "__main__":
    raise SystemExit(main())

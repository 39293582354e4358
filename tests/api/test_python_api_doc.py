"""docs/python-api.md runs as written and prints what it shows.

Its Python blocks run in order in one namespace (from a working directory whose `data` is the
repository's), with MLFLOW_TRACKING_URI naming an MLflow database of the test's own (`sqlite:///`,
the embedded MLflow the page suggests), so the page's registered models meet no other test's.
A ```text block right after a Python block is what that block prints; `...` in it stands for
text that changes from run to run (request ids, times).
"""

from __future__ import annotations

import functools
import io
import re
from pathlib import Path
from typing import Any

import pytest

from nba_mcp_deploy.api.assembly import ServicesOwner
from tests.conftest import REPO

pytestmark = pytest.mark.slow

DOC = REPO / "docs" / "python-api.md"
_BLOCK = re.compile(r"^```(python|text)\n(.*?)^```$", re.S | re.M)


def examples(text: str) -> list[tuple[str, str | None]]:
    """Each Python block with the text block that follows it directly (None when there is none)."""
    blocks = [(m.group(1), m.group(2), m.start(), m.end()) for m in _BLOCK.finditer(text)]
    pairs = []
    for index, (kind, body, _, end) in enumerate(blocks):
        if kind != "python":
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        adjacent = following is not None and following[0] == "text" and not text[end : following[2]].strip()
        pairs.append((body, following[1] if adjacent and following is not None else None))
    return pairs


def printed_as_shown(printed: str, shown: str) -> bool:
    pattern = ".*?".join(re.escape(part) for part in shown.strip().split("..."))
    return re.fullmatch(pattern, printed.strip(), re.S) is not None


def test_the_page_runs_and_prints_what_it_shows(
    clean_environment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_environment / "data").symlink_to(REPO / "data")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}")
    (tmp_path / "mlflow").mkdir()
    namespace: dict[str, Any] = {"__name__": "python_api_page"}
    pairs = examples(DOC.read_text())
    assert len(pairs) >= 10
    try:
        for number, (code, shown) in enumerate(pairs, start=1):
            # The page's own `print` writes here (swapping sys.stdout would also catch what MLflow's
            # background threads print, and race with them).
            printed = io.StringIO()
            namespace["print"] = functools.partial(print, file=printed)
            exec(compile(code, f"<docs/python-api.md block {number}>", "exec", dont_inherit=True), namespace)
            if shown is not None:
                assert printed_as_shown(printed.getvalue(), shown), f"block {number} printed:\n{printed.getvalue()}"
    finally:
        for value in namespace.values():
            if isinstance(value, ServicesOwner):
                value.close()


def test_the_ellipsis_stands_for_any_text_and_nothing_else() -> None:
    assert printed_as_shown("request 4f2a-1 served by v1.0", "request ... served by v1.0")
    assert not printed_as_shown("request 4f2a-1 served by v2.0", "request ... served by v1.0")
    assert examples("```python\nprint(1)\n```\n\n```text\n1\n```\n```python\nx = 2\n```\n") == [
        ("print(1)\n", "1\n"),
        ("x = 2\n", None),
    ]

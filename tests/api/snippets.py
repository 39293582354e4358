"""The Python snippets of the seed document, extracted as they are, and made runnable in two ways
only: the import line (`mcp_server.model_*` -> `nba_mcp_deploy`) and each `...` filled in."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "docs" / "seed" / "nba-mcp-model-deployment.md"

_FENCE = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)
_HEADING = re.compile(r"^#{2,4} (?:\d+\. )?(.+)$", re.M)
_SEED_MODULE = re.compile(r"\bmcp_server\.model_\w+\b")


@dataclass(frozen=True)
class Snippet:
    """One ```python block and the heading it stands under."""

    title: str
    code: str

    def runnable(self, fills: Sequence[str]) -> str:
        """The code with the package's import line and `fills` in place of its `...`, in order."""
        code = _SEED_MODULE.sub("nba_mcp_deploy", self.code)
        changed = [
            line for line, before in zip(code.splitlines(), self.code.splitlines(), strict=True) if line != before
        ]
        assert all(line.startswith("from nba_mcp_deploy import ") for line in changed), changed
        return fill_placeholders(code, fills)


def seed_snippets(path: Path = SEED) -> list[Snippet]:
    """Every Python block of the document, titled by its nearest heading above."""
    text = path.read_text()
    headings = [(m.start(), m.group(1).strip()) for m in _HEADING.finditer(text)]
    snippets = []
    for block in _FENCE.finditer(text):
        title = [name for start, name in headings if start < block.start()][-1]
        snippets.append(Snippet(title, block.group(1)))
    return snippets


def placeholders(code: str) -> list[tokenize.TokenInfo]:
    """The `...` tokens of the code (an ellipsis in a comment or a string is not one)."""
    tokens = tokenize.generate_tokens(io.StringIO(code).readline)
    return [t for t in tokens if t.type == tokenize.OP and t.string == "..."]


def fill_placeholders(code: str, fills: Sequence[str]) -> str:
    """Replace the n-th `...` with `fills[n]`; the counts must agree."""
    dots = placeholders(code)
    assert len(dots) == len(fills), f"{len(dots)} placeholders, {len(fills)} fills"
    lines = code.splitlines(keepends=True)
    for token, text in reversed(list(zip(dots, fills, strict=True))):
        (row, start), (_, end) = token.start, token.end
        line = lines[row - 1]
        lines[row - 1] = line[:start] + text + line[end:]
    return "".join(lines)

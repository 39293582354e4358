"""Lineage: which version a version was derived from, walked up (ancestors) and down (descendants).

A version names at most one parent, possibly of another model. The store refuses links that
would close a cycle, so walks terminate; they are still bounded so a huge family cannot
produce an unbounded answer.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from nba_mcp_deploy.errors import NotFoundError
from nba_mcp_deploy.registry.records import ModelVersion, VersionRef

MAX_ANCESTORS = 1_000
MAX_DESCENDANTS = 1_000


class LineageReader(Protocol):
    """The two store reads a lineage walk needs."""

    def get_version(self, model_id: str, version: str) -> ModelVersion: ...

    def children(self, model_id: str, version: str) -> list[ModelVersion]: ...


@dataclass(frozen=True)
class Descendant:
    """A version derived (directly or not) from the start of the walk; depth 1 is a child."""

    version: ModelVersion
    depth: int


@dataclass(frozen=True)
class Lineage:
    """A version with its ancestors (parent first) and descendants (breadth first).

    `missing_ancestor` names a parent that was deleted: the ancestor chain stops there.
    `truncated` says the descendants were cut at MAX_DESCENDANTS.
    """

    version: ModelVersion
    ancestors: tuple[ModelVersion, ...]
    descendants: tuple[Descendant, ...]
    missing_ancestor: VersionRef | None = None
    truncated: bool = False


def walk_ancestors(reader: LineageReader, start: ModelVersion) -> tuple[list[ModelVersion], VersionRef | None]:
    """Ancestors of `start`, parent first, and the first ancestor that no longer exists (if any)."""
    chain: list[ModelVersion] = []
    seen = {start.ref}
    parent = start.parent
    while parent is not None and parent not in seen and len(chain) < MAX_ANCESTORS:
        try:
            node = reader.get_version(parent.model_id, parent.version)
        except NotFoundError:
            return chain, parent
        chain.append(node)
        seen.add(parent)
        parent = node.parent
    return chain, None


def walk_descendants(reader: LineageReader, start: ModelVersion) -> tuple[list[Descendant], bool]:
    """Descendants of `start`, breadth first, and whether the walk stopped at MAX_DESCENDANTS."""
    found: list[Descendant] = []
    seen = {start.ref}
    queue = deque([(start, 0)])
    while queue:
        node, depth = queue.popleft()
        for child in reader.children(node.model_id, node.version):
            if child.ref in seen:
                continue
            if len(found) >= MAX_DESCENDANTS:
                return found, True
            seen.add(child.ref)
            found.append(Descendant(child, depth + 1))
            queue.append((child, depth + 1))
    return found, False


def get_lineage(reader: LineageReader, start: ModelVersion) -> Lineage:
    """The full lineage view of one version."""
    ancestors, missing = walk_ancestors(reader, start)
    descendants, truncated = walk_descendants(reader, start)
    return Lineage(start, tuple(ancestors), tuple(descendants), missing, truncated)


class RelationKind(StrEnum):
    """How two versions are related through lineage."""

    SAME = "same"
    ANCESTOR = "ancestor"  # a is an ancestor of b
    DESCENDANT = "descendant"  # a is a descendant of b
    SIBLINGS = "siblings"  # same parent
    RELATED = "related"  # a common ancestor further up
    UNRELATED = "unrelated"


@dataclass(frozen=True)
class LineageRelation:
    """The relation of version a to version b, with the generations between them when direct."""

    kind: RelationKind
    description: str
    generations: int | None = None
    common_ancestor: VersionRef | None = None


def relate(
    a: ModelVersion, a_ancestors: Sequence[ModelVersion], b: ModelVersion, b_ancestors: Sequence[ModelVersion]
) -> LineageRelation:
    """The relation between a and b given each one's ancestors (parent first)."""
    if a.ref == b.ref:
        return LineageRelation(RelationKind.SAME, f"{a.ref} and {b.ref} are the same version", 0)
    b_up = [v.ref for v in b_ancestors]
    if a.ref in b_up:
        n = b_up.index(a.ref) + 1
        return LineageRelation(RelationKind.ANCESTOR, f"{a.ref} is {_generations(n, 'ancestor')} of {b.ref}", n)
    a_up = [v.ref for v in a_ancestors]
    if b.ref in a_up:
        n = a_up.index(b.ref) + 1
        return LineageRelation(RelationKind.DESCENDANT, f"{a.ref} is {_generations(n, 'descendant')} of {b.ref}", n)
    b_set = set(b_up)
    common = next((ref for ref in a_up if ref in b_set), None)
    if common is None:
        return LineageRelation(RelationKind.UNRELATED, f"{a.ref} and {b.ref} share no recorded ancestor")
    if a.parent == b.parent:
        return LineageRelation(RelationKind.SIBLINGS, f"{a.ref} and {b.ref} share the parent {common}", None, common)
    return LineageRelation(RelationKind.RELATED, f"{a.ref} and {b.ref} share the ancestor {common}", None, common)


def _generations(n: int, word: str) -> str:
    if n == 1:
        return "the parent" if word == "ancestor" else "a child"
    return f"an {word} ({n} generations)"

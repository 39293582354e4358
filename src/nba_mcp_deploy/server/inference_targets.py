"""Which version(s) an inference request may reach, asked before it runs: for a 404 on an unknown
version, the column order of an unnamed tensor, outputs a version cannot give, and the model that
`/invocations` (which names none) means.

Read from the routing snapshot the request started with; `predict` itself still routes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from nba_mcp_deploy.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from nba_mcp_deploy.serving.deployment import ModelRouting, ServedVersion
    from nba_mcp_deploy.serving.manager import ModelServingManager


def only_model(manager: ModelServingManager) -> str:
    """`/invocations` names no model: the one deployed, or an error saying how to pick."""
    deployed = manager.model_ids()
    if len(deployed) == 1:
        return deployed[0]
    if not deployed:
        raise NotFoundError("no model is deployed; deploy one with the deploy_model tool")
    raise InvalidInputError(
        "path",
        "/invocations",
        f"{len(deployed)} models are deployed ({', '.join(deployed[:20])}); pick one with "
        "POST /v1/models/<model>/invocations (or /v2/models/<model>/infer)",
    )


def pinned_version(routing: ModelRouting, version: str) -> ServedVersion:
    served = routing.versions.get(version)
    if served is None:
        raise NotFoundError(
            f"{routing.model_id} has no deployed version {version!r}; deployed: {routing.sorted_versions()}"
        )
    return served


def reachable_versions(routing: ModelRouting, version: str | None) -> list[ServedVersion]:
    """The versions a request may be served by: the pinned one, else the live ones."""
    if version is not None:
        return [pinned_version(routing, version)]
    names = routing.live_versions() or routing.sorted_versions()
    return [routing.versions[name] for name in names]


def described_version(routing: ModelRouting, version: str | None) -> ServedVersion:
    """The version metadata describes: the pinned one, else the one most default traffic reaches."""
    if version is not None:
        return pinned_version(routing, version)
    split = routing.split
    if split is not None:
        weights = dict(zip(split.versions, split.weights, strict=True))
        return routing.versions[max(weights, key=weights.__getitem__)]
    return routing.versions[routing.active or routing.sorted_versions()[-1]]


def feature_order(routing: ModelRouting, version: str | None) -> Sequence[str]:
    """The column order of an unnamed 2-D tensor: shared by every version the request may reach."""
    orders = {tuple(served.model.feature_names) for served in reachable_versions(routing, version)}
    if len(orders) != 1:
        raise InvalidInputError(
            "inputs[0].parameters.columns",
            None,
            f"the versions this request may reach take different features ({sorted(orders)}); name the columns "
            "in parameters.columns, send one tensor per feature, or pin a version",
        )
    return list(orders.pop())


def check_outputs(routing: ModelRouting, version: str | None, wanted: Sequence[str]) -> None:
    """Refuse outputs a reachable version lacks before it runs (e.g. predict_proba of a regressor)."""
    for served in reachable_versions(routing, version):
        names = served.signature.output_names()
        missing = [name for name in wanted if name not in names]
        if missing:
            raise InvalidInputError(
                "outputs", list(wanted), f"{routing.model_id} {served.version} has only the outputs {names}"
            )

"""Rows <-> value objects for SQL stores (sqlite today, PostgreSQL later): one encoding for both.

Mappings are stored as JSON text beside indexed side tables (metrics, tags) that searches use;
filters and sorts scan a narrow `versions` table, documents live in `version_details`;
versions carry a `version_sort` text whose byte order is the semantic order of `version_key`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.identifiers import version_key
from nba_mcp_deploy.registry.records import ChangeReason, ModelVersion, StageChange, VersionRef
from nba_mcp_deploy.registry.stages import Stage

# A version lives in two rows: the narrow `versions` row that filters and sorts scan (v), and
# its `version_details` row (d) with the documents, read only for the versions returned.
SELECT_VERSION = (
    "SELECT v.model_id, v.version, v.stage, v.framework, v.algorithm, d.metrics, d.hyperparameters, "
    "d.tags, d.description, d.model_uri, v.parent_model_id, v.parent_version, v.registered_at, "
    "v.registered_by, v.stage_changed_at FROM versions v JOIN version_details d ON d.version_id = v.id"
)
VERSION_INSERT_COLUMNS = (
    "model_id, version, version_sort, stage, framework, algorithm, parent_model_id, parent_version, "
    "registered_at, registered_by, stage_changed_at"
)
DETAILS_INSERT_COLUMNS = "version_id, metrics, hyperparameters, tags, description, model_uri"
CHANGE_COLUMNS = "seq, model_id, version, from_stage, to_stage, changed_at, actor, reason, note"


# One encoding for every document: compact, keys sorted, finite numbers only (what both
# databases read back exactly, see sql_search.py).
_ENCODER = json.JSONEncoder(allow_nan=False, sort_keys=True, separators=(",", ":"))


def version_sort(version: str) -> str:
    """Text that sorts like `version_key`: each part zero-padded to 6 digits (the scheme's maximum)."""
    return ".".join([f"{part:06d}" for part in version_key(version)])


def key_params(ref: VersionRef | ModelVersion) -> tuple[str, str]:
    """The (model_id, version_sort) pair a version is looked up by."""
    return ref.model_id, version_sort(ref.version)


def to_json(value: Mapping[str, Any], field: str) -> str:
    """Compact, key-sorted JSON; InvalidInputError for what JSON cannot hold."""
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(field, value, f"expected a JSON document: {exc}") from None


def version_row(v: ModelVersion) -> tuple[Any, ...]:
    """The values of VERSION_INSERT_COLUMNS for `v`."""
    parent = v.parent
    return (
        v.model_id,
        v.version,
        version_sort(v.version),
        v.stage.value,
        v.framework,
        v.algorithm,
        None if parent is None else parent.model_id,
        None if parent is None else parent.version,
        v.registered_at,
        v.registered_by,
        v.stage_changed_at,
    )


def details_row(version_id: int, v: ModelVersion) -> tuple[Any, ...]:
    """The values of DETAILS_INSERT_COLUMNS for `v`, stored under `version_id`."""
    return (
        version_id,
        to_json(v.metrics, "metrics"),
        to_json(v.hyperparameters, "hyperparameters"),
        to_json(v.tags, "tags"),
        v.description,
        v.model_uri,
    )


def version_from_row(row: Sequence[Any]) -> ModelVersion:
    """A ModelVersion from a row of SELECT_VERSION."""
    return ModelVersion(
        model_id=row[0],
        version=row[1],
        stage=Stage(row[2]),
        framework=row[3],
        algorithm=row[4],
        metrics=json.loads(row[5]),
        hyperparameters=json.loads(row[6]),
        tags=json.loads(row[7]),
        description=row[8],
        model_uri=row[9],
        parent=None if row[10] is None else VersionRef(row[10], row[11]),
        registered_at=row[12],
        registered_by=row[13],
        stage_changed_at=row[14],
    )


def change_row(c: StageChange) -> tuple[Any, ...]:
    """The values of CHANGE_COLUMNS without `seq` (the store assigns it)."""
    return (
        c.model_id,
        c.version,
        None if c.from_stage is None else c.from_stage.value,
        None if c.to_stage is None else c.to_stage.value,
        c.changed_at,
        c.actor,
        c.reason.value,
        c.note,
    )


def change_from_row(row: Sequence[Any]) -> StageChange:
    """A StageChange from the values of CHANGE_COLUMNS."""
    return StageChange(
        seq=row[0],
        model_id=row[1],
        version=row[2],
        from_stage=None if row[3] is None else Stage(row[3]),
        to_stage=None if row[4] is None else Stage(row[4]),
        changed_at=row[5],
        actor=row[6],
        reason=ChangeReason(row[7]),
        note=row[8],
    )

"""The catalogue's SQL (`VersionStore`): versions, their search, stage changes and lineage.

A version is two rows: the narrow `versions` row that filters and sorts read, and its
`version_details` row with the documents (see `rows.py`). Versions are looked up by their
semantic key (`rows.key_params`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from nba_mcp_deploy.errors import ConflictError, InvalidInputError, NotFoundError
from nba_mcp_deploy.registry.records import (
    ModelSummary,
    ModelVersion,
    RegistryStatistics,
    StageChange,
    VersionRef,
)
from nba_mcp_deploy.registry.search import SearchPage, SearchQuery
from nba_mcp_deploy.registry.stages import Stage
from nba_mcp_deploy.registry.store import VersionStore
from nba_mcp_deploy.stores.rows import (
    CHANGE_COLUMNS,
    DETAILS_INSERT_COLUMNS,
    SELECT_VERSION,
    VERSION_INSERT_COLUMNS,
    change_from_row,
    change_row,
    details_row,
    key_params,
    version_from_row,
    version_row,
)
from nba_mcp_deploy.stores.sql_database import LINEAGE_LOCK, SqlConnection, SqlDatabase, marks
from nba_mcp_deploy.stores.sql_search import search_sql

_INSERT_VERSION = f"INSERT INTO versions ({VERSION_INSERT_COLUMNS}) VALUES ({marks(VERSION_INSERT_COLUMNS)})"
_INSERT_DETAILS = f"INSERT INTO version_details ({DETAILS_INSERT_COLUMNS}) VALUES ({marks(DETAILS_INSERT_COLUMNS)})"
_INSERT_CHANGE = (
    "INSERT INTO stage_changes (model_id, version, from_stage, to_stage, changed_at, actor, reason, note) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_ID_VERSION = SELECT_VERSION.replace("SELECT ", "SELECT v.id, ", 1)
_KEY = " WHERE v.model_id = ? AND v.version_sort = ?"
_ID_AND_STAGE = "SELECT v.id, v.stage FROM versions v" + _KEY
_STAGE_SUMS = ", ".join(f"SUM(CASE WHEN stage = '{s.value}' THEN 1 ELSE 0 END)" for s in Stage)


class SqlVersionStore(SqlDatabase, VersionStore):
    """The `versions`, `version_details`, `version_metrics`, `version_tags` and `stage_changes` tables."""

    # -- versions ----------------------------------------------------------------------------

    def add_version(self, version: ModelVersion, change: StageChange) -> StageChange:
        with self._write() as conn:
            existing = conn.execute(_ID_AND_STAGE, key_params(version)).fetchone()
            if existing is not None:
                raise ConflictError(
                    f"{version.ref} is already registered (stage {existing[1]}); versions are never "
                    "overwritten: register a new version"
                )
            parent = version.parent
            if parent is not None:
                lock = " FOR SHARE" if self.flavour.lock_rows else ""
                if conn.execute(_ID_AND_STAGE + lock, key_params(parent)).fetchone() is None:
                    raise NotFoundError(f"parent {parent} of {version.ref} is not registered")
            # A writer registering the same version at the same moment is refused by the unique
            # index (ConflictError, translated by the backend).
            version_id = self._insert(conn, _INSERT_VERSION, version_row(version), "id")
            conn.execute(_INSERT_DETAILS, details_row(version_id, version))
            if version.metrics:
                conn.executemany(
                    "INSERT INTO version_metrics (version_id, name, value) VALUES (?, ?, ?)",
                    [(version_id, name, value) for name, value in version.metrics.items()],
                )
            if version.tags:
                conn.executemany(
                    "INSERT INTO version_tags (version_id, key, value) VALUES (?, ?, ?)",
                    [(version_id, name, value) for name, value in version.tags.items()],
                )
            return self._append_change(conn, change)

    def get_version(self, model_id: str, version: str) -> ModelVersion:
        with self._read() as conn:
            row = conn.execute(SELECT_VERSION + _KEY, key_params(VersionRef(model_id, version))).fetchone()
            if row is not None:
                return version_from_row(row)
            known = conn.execute("SELECT 1 FROM versions WHERE model_id = ? LIMIT 1", (model_id,)).fetchone()
        if known is None:
            raise NotFoundError(f"no model {model_id!r} is registered")
        raise NotFoundError(f"{model_id} has no version {version!r}; list_versions shows the ones it has")

    def list_versions(self, model_id: str) -> list[ModelVersion]:
        with self._read() as conn:
            rows = conn.execute(SELECT_VERSION + " WHERE v.model_id = ? ORDER BY v.version_sort", (model_id,))
            return [version_from_row(row) for row in rows]

    def list_models(self) -> list[ModelSummary]:
        sql = (
            f"SELECT model_id, COUNT(*), MAX(registered_at), {_STAGE_SUMS}, "
            "MAX(CASE WHEN stage = 'production' THEN version END), "
            "(SELECT w.version FROM versions w WHERE w.model_id = v.model_id "
            "ORDER BY w.version_sort DESC LIMIT 1) "
            "FROM versions v GROUP BY model_id ORDER BY model_id"
        )
        with self._read() as conn:
            rows = conn.execute(sql).fetchall()
        stages = list(Stage)
        return [
            ModelSummary(
                model_id=row[0],
                version_count=int(row[1]),
                latest_version=row[-1],
                production_version=row[-2],
                stage_counts={s.value: int(row[3 + i]) for i, s in enumerate(stages)},
                last_registered_at=row[2],
            )
            for row in rows
        ]

    def search(self, query: SearchQuery) -> SearchPage:
        sql = search_sql(query, self.flavour.search)
        with self._read() as conn:
            page = conn.execute(sql.ids, sql.ids_params).fetchall()
            ids = [row[0] for row in page]
            if sql.counted and page:
                total = int(page[0][1])
            elif len(ids) < query.limit and (ids or query.offset == 0):
                total = query.offset + len(ids)
            else:
                total = int(conn.execute(sql.count, sql.count_params).fetchone()[0])
            rows = {}
            if ids:
                found = conn.execute(f"{_SELECT_ID_VERSION} WHERE v.id IN ({', '.join('?' for _ in ids)})", ids)
                rows = {row[0]: row[1:] for row in found}
        return SearchPage.build(tuple(version_from_row(rows[i]) for i in ids), total, query.offset, query.limit)

    def statistics(self) -> RegistryStatistics:
        with self._read() as conn:
            models, versions = conn.execute("SELECT COUNT(DISTINCT model_id), COUNT(*) FROM versions").fetchone()
            by_stage = {s: int(n) for s, n in conn.execute("SELECT stage, COUNT(*) FROM versions GROUP BY stage")}
            by_framework = conn.execute(
                "SELECT framework, COUNT(*) FROM versions GROUP BY framework ORDER BY framework"
            ).fetchall()
        return RegistryStatistics(
            total_models=int(models),
            total_versions=int(versions),
            production_count=by_stage.get(Stage.PRODUCTION.value, 0),
            by_stage={s.value: by_stage.get(s.value, 0) for s in Stage},
            by_framework={name: int(n) for name, n in by_framework},
        )

    # -- lifecycle -----------------------------------------------------------------------------

    def apply_changes(self, changes: Sequence[StageChange]) -> list[StageChange]:
        applied = []
        with self._write() as conn:
            for change in changes:
                if change.from_stage is None:
                    raise InvalidInputError("changes", str(change.ref), "registrations go through add_version")
                # The row stays locked until the transaction ends: a concurrent batch that reads
                # it waits, then sees this batch's outcome (compare-and-set across replicas).
                row = conn.execute(_ID_AND_STAGE + self.flavour.lock_rows, key_params(change.ref)).fetchone()
                if row is None:
                    raise NotFoundError(f"{change.ref} is not registered (it may have just been deleted)")
                if row[1] != change.from_stage.value:
                    raise ConflictError(
                        f"{change.ref} is in {row[1]}, not {change.from_stage.value}: it changed meanwhile"
                    )
                if change.to_stage is None:
                    self._delete_version(conn, row[0])
                else:
                    conn.execute(
                        "UPDATE versions SET stage = ?, stage_changed_at = ? WHERE id = ?",
                        (change.to_stage.value, change.changed_at, row[0]),
                    )
                applied.append(self._append_change(conn, change))
        return applied

    def _delete_version(self, conn: SqlConnection, version_id: int) -> None:
        """Delete a version with its search rows, found by their whole key from its documents
        (the side tables have no index by version: registering would pay for it)."""
        metrics, tags = conn.execute(
            "SELECT metrics, tags FROM version_details WHERE version_id = ?", (version_id,)
        ).fetchone()
        for table, name, document in (("version_metrics", "name", metrics), ("version_tags", "key", tags)):
            rows = [(key, value, version_id) for key, value in self._decode(document, table).items()]
            if rows:
                conn.executemany(f"DELETE FROM {table} WHERE {name} = ? AND value = ? AND version_id = ?", rows)
        conn.execute("DELETE FROM versions WHERE id = ?", (version_id,))

    def history(self, model_id: str, version: str | None = None) -> list[StageChange]:
        sql = f"SELECT {CHANGE_COLUMNS} FROM stage_changes WHERE model_id = ?"
        params: tuple[str, ...] = (model_id,)
        if version is not None:
            sql, params = sql + " AND version = ?", (model_id, version)
        with self._read() as conn:
            return [change_from_row(row) for row in conn.execute(sql + " ORDER BY seq", params)]

    # -- lineage -------------------------------------------------------------------------------

    def set_parent(self, model_id: str, version: str, parent: VersionRef | None) -> ModelVersion:
        ref = VersionRef(model_id, version)
        with self._write() as conn:
            self._serialise(conn, LINEAGE_LOCK)
            row = conn.execute(_ID_AND_STAGE + self.flavour.lock_rows, key_params(ref)).fetchone()
            if row is None:
                raise NotFoundError(f"{ref} is not registered")
            if parent is not None:
                if conn.execute(_ID_AND_STAGE, key_params(parent)).fetchone() is None:
                    raise NotFoundError(f"parent {parent} is not registered")
                if ref in self._ancestors(conn, parent):
                    raise InvalidInputError(
                        "parent",
                        str(parent),
                        f"{ref} is already an ancestor of {parent}; the link would form a cycle",
                    )
            conn.execute(
                "UPDATE versions SET parent_model_id = ?, parent_version = ? WHERE id = ?",
                (
                    None if parent is None else parent.model_id,
                    None if parent is None else parent.version,
                    row[0],
                ),
            )
            return version_from_row(conn.execute(SELECT_VERSION + " WHERE v.id = ?", (row[0],)).fetchone())

    def children(self, model_id: str, version: str) -> list[ModelVersion]:
        sql = (
            SELECT_VERSION + " WHERE v.parent_model_id = ? AND v.parent_version = ? ORDER BY v.model_id, v.version_sort"
        )
        with self._read() as conn:
            return [version_from_row(row) for row in conn.execute(sql, (model_id, version))]

    # -- internals -------------------------------------------------------------------------------

    def _ancestors(self, conn: SqlConnection, start: VersionRef) -> list[VersionRef]:
        """`start` and its ancestors, read inside the caller's transaction (stops on a cycle)."""
        chain = [start]
        while True:
            row = conn.execute(
                "SELECT v.parent_model_id, v.parent_version FROM versions v" + _KEY, key_params(chain[-1])
            ).fetchone()
            if row is None or row[0] is None or VersionRef(row[0], row[1]) in chain:
                return chain
            chain.append(VersionRef(row[0], row[1]))

    def _append_change(self, conn: SqlConnection, change: StageChange) -> StageChange:
        seq = self._insert(conn, _INSERT_CHANGE, change_row(change), "seq")
        return dataclasses.replace(change, seq=seq)

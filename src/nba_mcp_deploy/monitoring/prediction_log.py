"""The bounded, columnar record of served predictions (numpy ring buffers).

Memory is fixed by `capacity`: the oldest record is overwritten when the buffer is full. Each
record keeps its time, model version, inputs (one float column per feature, NaN when absent),
prediction, actual outcome (NaN until `set_actuals`), latency and error flag. A request of many
rows stores its latency and error once, on its first row ("head"), so latency percentiles and
the error rate count requests, not rows.

Not thread-safe by itself: `ModelMonitor` holds the lock around every call.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from nba_mcp_deploy.monitoring.samples import FloatArray

NAN = math.nan


@dataclass(frozen=True)
class LogView:
    """A copy of the selected records, oldest first (safe to use outside the lock)."""

    timestamps: FloatArray
    versions: list[str]  # version per record
    predictions: FloatArray
    actuals: FloatArray
    latency_ms: FloatArray  # NaN on rows that are not the first of their request
    errors: npt.NDArray[np.bool_]
    heads: npt.NDArray[np.bool_]
    features: dict[str, FloatArray]

    @property
    def rows(self) -> int:
        return int(self.timestamps.shape[0])


def to_float(value: Any) -> float:
    """A number for storage; anything that is not one becomes NaN (and counts as missing)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return NAN


class PredictionLog:
    """Ring buffers of `capacity` records with up to `max_features` feature columns."""

    def __init__(self, capacity: int, max_features: int = 1_000) -> None:
        self.capacity = capacity
        self.max_features = max_features
        self.written = 0  # records ever appended
        self.dropped_features = 0  # values of features beyond max_features, not stored
        self._ts = np.zeros(capacity)
        self._version = np.zeros(capacity, dtype=np.int32)
        self._pred = np.full(capacity, NAN)
        self._actual = np.full(capacity, NAN)
        self._latency = np.full(capacity, NAN)
        self._error = np.zeros(capacity, dtype=bool)
        self._head = np.zeros(capacity, dtype=bool)
        self._ids: list[str | None] = [None] * capacity
        self._slot_of: dict[str, int] = {}
        self._names: list[str] = []
        self._name_set: set[str] = set()
        self._index: dict[str, int] = {}
        self._features = np.full((capacity, 0), NAN)
        self._versions: list[str] = []
        self._version_code: dict[str, int] = {}
        self._batch_columns: dict[tuple[str, ...], npt.NDArray[np.intp]] = {}
        self._identity_cache: dict[int, bool] = {}

    @property
    def size(self) -> int:
        """Records currently held."""
        return min(self.written, self.capacity)

    @property
    def feature_names(self) -> list[str]:
        return list(self._names)

    def _code(self, version: str) -> int:
        code = self._version_code.get(version)
        if code is None:
            code = len(self._versions)
            self._versions.append(version)
            self._version_code[version] = code
        return code

    def _add_features(self, names: Sequence[str]) -> None:
        new = [n for n in names if n not in self._index]
        room = self.max_features - len(self._names)
        new = new[: max(room, 0)]
        if not new:
            return
        for name in new:
            self._index[name] = len(self._names)
            self._names.append(name)
            self._name_set.add(name)
        grown = np.full((self.capacity, len(self._names)), NAN)
        grown[:, : self._features.shape[1]] = self._features
        self._features = grown
        self._batch_columns.clear()
        self._identity_cache.clear()

    def _claim(self, prediction_id: str) -> int:
        slot = self.written % self.capacity
        if self.written >= self.capacity:
            old = self._ids[slot]
            if old is not None and self._slot_of.get(old) == slot:
                del self._slot_of[old]
        self._ids[slot] = prediction_id
        self._slot_of[prediction_id] = slot
        self.written += 1
        return slot

    def append(
        self,
        prediction_id: str,
        features: Mapping[str, Any],
        prediction: float,
        actual: float,
        latency_ms: float,
        error: bool,
        version: str,
        timestamp: float,
    ) -> None:
        """Record one single-row request."""
        if features.keys() != self._name_set:
            self._add_features(list(features))
        slot = self._claim(prediction_id)
        row = [features.get(name, NAN) for name in self._names]
        try:
            self._features[slot] = row
        except (TypeError, ValueError):
            self._features[slot] = [to_float(v) for v in row]
        if len(features) > len(self._names):
            self.dropped_features += sum(1 for n in features if n not in self._index)
        self._write_scalars(slot, timestamp, version, prediction, actual, latency_ms, error)

    def append_batch(
        self,
        prediction_ids: Sequence[str],
        feature_names: Sequence[str],
        features: FloatArray,
        predictions: FloatArray,
        latency_ms: float,
        error: bool,
        version: str,
        timestamp: float,
    ) -> None:
        """Record one request of `len(prediction_ids)` rows (vectorised over the rows)."""
        rows = len(prediction_ids)
        if rows == 0:
            return
        names = tuple(feature_names)
        columns = self._batch_columns.get(names)
        if columns is None:
            self._add_features(names)
            columns = np.array([self._index.get(n, -1) for n in names], dtype=np.intp)
            self._batch_columns[names] = columns
        if rows == 1 and features.ndim == 2 and features.shape[1] == len(names):
            self._append_one(
                prediction_ids[0], columns, features[0], predictions, latency_ms, error, version, timestamp
            )
            return
        start = self.written
        for pid in prediction_ids:
            self._claim(pid)
        slots = (start + np.arange(rows)) % self.capacity
        if rows > self.capacity:  # only the last `capacity` rows survive
            slots, features, predictions = (
                slots[-self.capacity :],
                features[-self.capacity :],
                predictions[-self.capacity :],
            )
        block = np.full((slots.shape[0], len(self._names)), NAN)
        kept = columns >= 0
        if features.ndim == 2 and features.shape[1] == len(names):
            block[:, columns[kept]] = features[:, kept]
        self._features[slots] = block
        self._ts[slots] = timestamp
        self._version[slots] = self._code(version)
        self._pred[slots] = predictions
        self._actual[slots] = NAN
        self._latency[slots] = NAN
        self._error[slots] = False
        self._head[slots] = False
        head = slots[0]
        self._latency[head] = latency_ms
        self._error[head] = error
        self._head[head] = True

    def _append_one(
        self,
        prediction_id: str,
        columns: npt.NDArray[np.intp],
        values: FloatArray,
        predictions: FloatArray,
        latency_ms: float,
        error: bool,
        version: str,
        timestamp: float,
    ) -> None:
        """The single-row request, the common case on the predict path: scalar writes only
        (fancy indexing has a fixed cost per array, and a request touches nine of them)."""
        slot = self._claim(prediction_id)
        row = self._features[slot]
        if columns.shape[0] == row.shape[0] and self._identity(columns):
            row[:] = values
        else:
            row[:] = NAN
            kept = columns >= 0
            row[columns[kept]] = values[kept]
        self._write_scalars(slot, timestamp, version, float(predictions[0]), NAN, latency_ms, error)

    def _write_scalars(
        self,
        slot: int,
        timestamp: float,
        version: str,
        prediction: float,
        actual: float,
        latency_ms: float,
        error: bool,
    ) -> None:
        """Everything but the features of a single-row record (the head of its request)."""
        self._ts[slot] = timestamp
        self._version[slot] = self._code(version)
        self._pred[slot] = prediction
        self._actual[slot] = actual
        self._latency[slot] = latency_ms
        self._error[slot] = error
        self._head[slot] = True

    def _identity(self, columns: npt.NDArray[np.intp]) -> bool:
        """Whether `columns` maps feature i to stored column i (cached per column mapping)."""
        key = id(columns)
        known = self._identity_cache.get(key)
        if known is None:
            known = bool(np.array_equal(columns, np.arange(columns.shape[0])))
            self._identity_cache[key] = known
        return known

    def set_actuals(self, actuals: Mapping[str, Any]) -> tuple[int, list[str]]:
        """Attach outcomes to logged predictions; returns (matched, ids not held any more)."""
        matched = 0
        unknown: list[str] = []
        for pid, value in actuals.items():
            slot = self._slot_of.get(str(pid))
            if slot is None:
                unknown.append(str(pid))
                continue
            self._actual[slot] = to_float(value)
            matched += 1
        return matched, unknown

    def lookup(self, prediction_ids: Sequence[str]) -> tuple[FloatArray, FloatArray]:
        """The prediction and actual of each id, NaN for ids not held (never logged, or overwritten)."""
        slots = np.fromiter(
            (self._slot_of.get(pid, -1) for pid in prediction_ids), dtype=np.intp, count=len(prediction_ids)
        )
        held = slots >= 0
        predictions = np.full(slots.shape[0], NAN)
        actuals = np.full(slots.shape[0], NAN)
        predictions[held] = self._pred[slots[held]]
        actuals[held] = self._actual[slots[held]]
        return predictions, actuals

    def view(self, since: float | None = None, version: str | None = None) -> LogView:
        """Copy of the records (oldest first) newer than `since`, of `version` if given."""
        size = self.size
        if self.written > self.capacity:
            start = self.written % self.capacity
            order = np.concatenate((np.arange(start, self.capacity), np.arange(0, start)))
        else:
            order = np.arange(size)
        mask = np.ones(order.shape[0], dtype=bool)
        if since is not None:
            mask &= self._ts[order] >= since
        if version is not None:
            code = self._version_code.get(version)
            mask &= self._version[order] == (code if code is not None else -1)
        picked = order[mask]
        codes = self._version[picked]
        return LogView(
            timestamps=self._ts[picked],
            versions=[self._versions[c] for c in codes.tolist()],
            predictions=self._pred[picked],
            actuals=self._actual[picked],
            latency_ms=self._latency[picked],
            errors=self._error[picked],
            heads=self._head[picked],
            features={name: self._features[picked, i] for i, name in enumerate(self._names)},
        )

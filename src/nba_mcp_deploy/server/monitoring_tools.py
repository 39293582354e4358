"""MCP tools for monitoring: reference data, drift (with a picture), outcomes, performance, alerts.

No `from __future__ import annotations`: the SDK evaluates these annotations. A result type
written as text is a core class read through its copy in `shapes.py` (see `outputs.py`).
"""

import base64
from typing import TYPE_CHECKING, Annotated, Any, Literal

import anyio
import anyio.from_thread
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult, ContentBlock, ImageContent, TextContent
from pydantic import Field

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.errors import ToolBoundary
from nba_mcp_deploy.server.hints import READ_ONLY, SETS
from nba_mcp_deploy.server.outputs import output_model, show
from nba_mcp_deploy.server.params import ModelId, Version, one_of
from nba_mcp_deploy.server.results import Alerts, DriftCheck, LoggedActuals, extend
from nba_mcp_deploy.server.shapes import AlertSeverity, Correction, DriftMethod

if TYPE_CHECKING:
    from nba_mcp_deploy.monitoring import PerformanceReport, ReferenceSummary
    from nba_mcp_deploy.monitoring.service import MonitoringService

# The MCP layer's own bounds on what one call may carry inline (the core takes any size; the
# configured limits on reference rows still apply after these): larger data goes by file path.
MAX_INLINE_ROWS = 100_000
MAX_ACTUALS = 100_000
# Unknown prediction ids listed back to the agent: enough to see what went wrong.
MAX_UNKNOWN_IDS_SHOWN = 1000
# Linux's PATH_MAX, and the MCP layer's bound on a column name.
MAX_PATH = 4096
MAX_COLUMN_NAME = 256

DataPath = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_PATH,
        description="a CSV or Parquet file inside the data roots (relative paths start at the first root)",
    ),
]
DataRecords = Annotated[
    list[dict[str, float | str | None]],
    Field(min_length=1, max_length=MAX_INLINE_ROWS, description="rows of feature -> value; for more, use path"),
]
Hours = Annotated[float, Field(gt=0, allow_inf_nan=False)]
if TYPE_CHECKING:
    Method = str
    CorrectionName = str
    Severity = str
else:
    Method = one_of(method.value for method in DriftMethod)
    CorrectionName = one_of(correction.name.lower() for correction in Correction)
    Severity = one_of(severity.value for severity in AlertSeverity)


def _exactly_one(records: Any, path: Any, records_field: str, path_field: str) -> Any:
    if (records is None) == (path is None):
        raise InvalidInputError(records_field, records, f"give exactly one of {records_field} and {path_field}")
    return records if records is not None else path


def register_monitoring_tools(server: MCPServer, host: ServiceHost, boundary: ToolBoundary) -> None:
    def monitoring() -> "MonitoringService":
        return host.services().monitoring

    @server.tool(annotations=SETS)
    @boundary
    def set_reference_data(
        model_id: ModelId,
        version: Version | None = None,
        records: DataRecords | None = None,
        path: DataPath | None = None,
        prediction_column: Annotated[str | None, Field(max_length=MAX_COLUMN_NAME)] = None,
    ) -> "ReferenceSummary":
        """Give the data a model was trained or validated on, as the baseline for drift checks.

        Pass records inline or a CSV/Parquet path inside the data roots. It is prepared once
        (sorted and binned), so later checks only pay for the current data. A
        'prediction' column (or prediction_column) enables prediction drift. version=null sets
        the reference for every version of the model without its own. With several replicas, a
        path given for a deployed model is loaded by every replica; inline records stay on this one.
        """
        data = _exactly_one(records, path, "records", "path")
        summary = (
            monitoring()
            .monitor(model_id)
            .set_reference_data(
                data,
                version=version,
                prediction_column=prediction_column,
                data_field="records" if records is not None else "path",
            )
        )
        manager = host.services().manager
        if path is not None and manager.is_deployed_model(model_id):  # every replica loads the same file
            manager.set_reference_location(model_id, version, {"path": path, "prediction_column": prediction_column})
        return summary

    @server.tool(annotations=READ_ONLY)
    @boundary
    async def detect_drift(
        model_id: ModelId,
        ctx: Context,
        version: Version | None = None,
        method: Method = DriftMethod.KS_TEST.value,
        features: Annotated[list[str] | None, Field(max_length=host.config.max_features_per_record)] = None,
        current_records: DataRecords | None = None,
        current_path: DataPath | None = None,
        window_hours: Hours | None = None,
        correction: CorrectionName | None = None,
        kind: Literal["features", "predictions"] = "features",
        include_plot: bool = False,
    ) -> Annotated[CallToolResult, output_model(DriftCheck)]:
        """Compare current data with the reference: per-feature score, p-value, threshold, verdict.

        Current data defaults to the inputs the model served (optionally only the last
        window_hours); or pass current_records / current_path. Methods: ks (default), psi, kl,
        js, wasserstein (numeric), chi_square (categorical). correction applies to p-value tests
        across features. kind='predictions' checks the model's outputs instead. include_plot adds
        a PNG of the most drifted features' distributions. Raises drift alerts.
        """
        if current_records is not None and current_path is not None:
            raise InvalidInputError(
                "current_path", current_path, "give at most one of current_records and current_path"
            )
        current = current_records if current_records is not None else current_path
        current_field = "current_records" if current_records is not None else "current_path"
        monitor = monitoring().monitor(model_id)

        def report_progress(done: int, total: int) -> None:
            anyio.from_thread.run(ctx.report_progress, done, total, f"checked {done} of {total} features")

        if kind == "predictions":
            if current_path is not None:
                raise InvalidInputError(
                    "current_path", current_path, "prediction drift takes current_records or the log"
                )
            values = None if current_records is None else [r.get("prediction") for r in current_records]
            report = await anyio.to_thread.run_sync(
                lambda: monitor.detect_prediction_drift(
                    values, method=method, window_hours=window_hours, version=version
                )
            )
        else:
            report = await anyio.to_thread.run_sync(
                lambda: monitor.detect_feature_drift(
                    current,
                    method=method,
                    features=features,
                    correction=correction,
                    window_hours=window_hours,
                    version=version,
                    progress=report_progress,
                    data_field=current_field,
                )
            )
        out = show(
            extend(report, DriftCheck, model_id=model_id, version=version, kind=kind, reading=report.method.reading)
        )
        content: list[ContentBlock] = [TextContent(type="text", text=out.model_dump_json())]
        if include_plot and kind == "features":
            png = await anyio.to_thread.run_sync(
                lambda: monitor.plot_feature_drift(
                    report, current, window_hours=window_hours, version=version, data_field=current_field
                )
            )
            content.append(ImageContent(type="image", data=base64.b64encode(png).decode(), mime_type="image/png"))
        return CallToolResult(content=content, structured_content=out.model_dump(mode="json"))

    @server.tool(annotations=SETS)
    @boundary
    def log_actuals(
        model_id: ModelId,
        actuals: Annotated[
            dict[str, float],
            Field(min_length=1, max_length=MAX_ACTUALS, description="prediction_id -> observed outcome"),
        ],
    ) -> LoggedActuals:
        """Report outcomes (e.g. once the game is over) for earlier predictions, by prediction id.

        They feed get_performance (accuracy, AUC, MAE...) and accuracy-drop alerts.
        """
        result = monitoring().get(model_id).log_actuals(actuals)
        return LoggedActuals(result.matched, result.unknown_ids[:MAX_UNKNOWN_IDS_SHOWN], model_id=model_id)

    @server.tool(annotations=READ_ONLY)
    @boundary
    def get_performance(
        model_id: ModelId, version: Version | None = None, window_hours: Hours = 24.0
    ) -> "PerformanceReport":
        """Quality on predictions with outcomes (accuracy/precision/recall/F1/AUC or MAE/RMSE),
        error rate and latency p95/p99 over the last window_hours. Raises threshold alerts."""
        return monitoring().get(model_id).calculate_performance(window_hours, version=version)

    @server.tool(annotations=READ_ONLY)
    @boundary
    def get_alerts(
        model_id: ModelId | None = None,
        severity: Severity | None = None,
        since: Annotated[float | None, Field(ge=0, description="only alerts after this time (epoch seconds)")] = None,
    ) -> Alerts:
        """Drift, error-rate, latency and accuracy-drop alerts, newest first; severity keeps that
        level and above. Repeats within the cool-down are folded into one."""
        alerts = monitoring().get_alerts(model_id=model_id, severity=severity, since=since)
        return Alerts.of(alerts)

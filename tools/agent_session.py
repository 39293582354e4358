"""Record a real agent session with the server and write it as `examples/agent_session.md`.

    python tools/agent_session.py [--output examples/agent_session.md]

It trains the NBA models, starts `nba-mcp-deploy serve` over stdio, and makes the calls an agent
would make — each call's arguments and the result exactly as it came back (long lists cut) go
into the transcript. Rerun it whenever the tools change.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from nba_mcp_deploy import nba_models  # noqa: E402
from nba_mcp_deploy.demo import server_command  # noqa: E402

MODEL = "next_season_impact"
MAX_ITEMS = 4
MAX_TEXT = 400


def shorten(value: Any) -> Any:
    """Cut long lists and strings so the transcript stays readable (marking what was cut)."""
    if isinstance(value, list):
        kept = [shorten(v) for v in value[:MAX_ITEMS]]
        return [*kept, f"... {len(value) - MAX_ITEMS} more"] if len(value) > MAX_ITEMS else kept
    if isinstance(value, dict):
        return {k: shorten(v) for k, v in value.items()}
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[:MAX_TEXT] + " ..."
    return value


class Transcript:
    """Calls tools and writes down what was asked and what came back."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.parts: list[str] = []

    def say(self, text: str) -> None:
        self.parts.append(text)

    async def call(self, tool: str, **arguments: Any) -> dict[str, Any]:
        started = time.perf_counter()
        result = await self.client.call_tool(tool, arguments)
        elapsed = (time.perf_counter() - started) * 1000
        shown = json.dumps(shorten(arguments), indent=2)
        self.parts.append(f"**→ `{tool}`** ({elapsed:.1f} ms)\n\n```json\n{shown}\n```\n")
        if result.is_error:
            text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
            self.parts.append(f"**← error**\n\n```\n{text}\n```\n")
            return {}
        body = json.dumps(shorten(result.structured_content), indent=2)
        self.parts.append(f"**←**\n\n```json\n{body}\n```\n")
        return dict(result.structured_content or {})


async def session(transcript: Transcript, trained: nba_models.TrainedModels) -> None:
    rows = nba_models.records(trained.holdout)
    labels = trained.holdout["positive_next"].tolist()
    players = trained.holdout["player_id"].astype(str).tolist()
    tools = await transcript.client.list_tools()
    transcript.say(f"The server lists {len(tools.tools)} tools: {', '.join(t.name for t in tools.tools)}.\n")
    transcript.say("### Register and deploy two versions\n")
    await transcript.call(
        "register_model",
        model_id=MODEL,
        version="v1.0",
        stage="staging",
        framework="sklearn",
        algorithm="gradient_boosting",
        metrics={"holdout_accuracy": round(trained.accuracy["v1.0"], 4)},
        model_uri="next_season_gb.skops",
    )
    await transcript.call("promote_model", model_id=MODEL, version="v1.0", target_stage="production")
    await transcript.call(
        "deploy_model", model_id=MODEL, version="v2.0", model_uri="next_season_logistic", set_active=False
    )
    transcript.say("### Predict\n")
    await transcript.call("predict", model_id=MODEL, inputs=rows[:2])
    await transcript.call("predict", model_id=MODEL, inputs=[{**rows[0], "mp": "lots"}])
    transcript.say("### A/B test with outcomes and a verdict\n")
    await transcript.call("setup_ab_test", model_id=MODEL, versions=["v1.0", "v2.0"], weights=[0.5, 0.5], sticky=True)
    outcomes = {}
    for record, label, player in zip(rows, labels, players, strict=True):
        answer = await transcript.client.call_tool(
            "predict", {"model_id": MODEL, "inputs": [record], "request_key": player}
        )
        served = answer.structured_content or {}
        outcomes[served["prediction_ids"][0]] = float(label)
    transcript.say(f"(served all {len(rows)} holdout player-seasons with their player id as the sticky key)\n")
    await transcript.call("log_actuals", model_id=MODEL, actuals=outcomes)
    await transcript.call("get_ab_test_results", model_id=MODEL)
    await transcript.call("clear_ab_test", model_id=MODEL)
    transcript.say("### Health\n")
    await transcript.call("health_check", model_id=MODEL)


async def record(output: Path) -> None:
    nba_models.quiet_mlflow()
    trained = nba_models.train_on_raptor([REPO / "data"])
    with tempfile.TemporaryDirectory(prefix="nba-agent-session-") as tmp:
        work = Path(tmp)
        models = work / "models"
        nba_models.save_skops(trained.boosting, models / "next_season_gb.skops")
        nba_models.save_mlflow_sklearn(trained.logistic, models / "next_season_logistic", trained.holdout)
        command, args = server_command()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("NBA_MCP_")},
            "MODEL_REGISTRY_DIR": str(work / "registry"),
            "NBA_MCP_MODEL_ROOTS": str(models),
        }
        params = StdioServerParameters(command=command, args=args, env=env, cwd=str(work))
        with (work / "server.log").open("w") as log:
            async with Client(stdio_client(params, errlog=log)) as client:
                transcript = Transcript(client)
                await session(transcript, trained)
    header = (
        "# An agent session, as it happened\n\n"
        "Recorded by `python tools/agent_session.py` against `nba-mcp-deploy serve` over stdio, with the\n"
        "official MCP Python client: each tool call (→) and what came back (←), long lists cut.\n"
        f"Models: trained on FiveThirtyEight RAPTOR 2014-2019 (CC BY 4.0). Recorded {time.strftime('%Y-%m-%d')}.\n\n"
    )
    output.write_text(header + "\n".join(transcript.parts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=REPO / "examples" / "agent_session.md")
    args = parser.parse_args(argv)
    anyio.run(record, args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

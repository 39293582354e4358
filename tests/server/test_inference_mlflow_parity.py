"""Side by side with `mlflow models serve` (a real subprocess, `--env-manager local`, loopback) on the
same MLflow model: the same requests, byte for byte, get the same status class and the same
predictions from our `/invocations`, and MLflow's own `ScoringServerClient` works unchanged.

The deliberate differences (docs/inference.md lists them) are asserted as differences:
a model that fails (the NaN pipeline) is 500 here and 400 there; a request without Content-Type
is 415 here (MLflow crashes with a 500); error bodies add `field` and `allowed`; `/version` names
our release.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from nba_mcp_deploy.nba_models import FEATURES
from tests.conftest import NbaModels
from tests.inference_models import negative_records
from tests.server.http_server import free_port
from tests.server.inference_server import InferenceServer, inference_server, nan_model_uri

pytestmark = pytest.mark.slow
START_SEC = 120.0


@contextmanager
def mlflow_serve(model_dir: Path, workdir: Path) -> Iterator[str]:
    """`mlflow models serve -m DIR --env-manager local` on a free loopback port; its base URL."""
    port = free_port()
    bin_dir = str(Path(sys.executable).parent)  # it runs `uvicorn` from PATH
    mlflow = shutil.which("mlflow", path=bin_dir) or "mlflow"
    command = [mlflow, "models", "serve", "-m", str(model_dir), "--env-manager", "local", "-h", "127.0.0.1"]
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), "MLFLOW_LOGGING_LEVEL": "WARNING"}
    log = workdir / f"mlflow-{port}.log"
    with log.open("w") as errors:
        process = subprocess.Popen([*command, "-p", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=errors)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SEC
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                if httpx2.get(base + "/ping", timeout=2).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class Pair:
    ours: InferenceServer
    mlflow: str
    mlflow_nan: str


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, nba: NbaModels) -> Iterator[Pair]:
    workdir = tmp_path_factory.mktemp("parity")
    nan_dir = nba.root / nan_model_uri(nba)
    with (
        inference_server(workdir, nba, tokens=False) as ours,
        mlflow_serve(nba.mlflow_dir, workdir) as theirs,
        mlflow_serve(nan_dir, workdir) as theirs_nan,
    ):
        ours.deploy("solo", "v1.0", "logistic_mlflow")  # the one model: /invocations serves it
        ours.tool("deploy_model", model_id="solo", version="v9.0", model_uri=nan_model_uri(nba), set_active=False)
        yield Pair(ours, theirs, theirs_nan)


def post(base: str, path: str, body: bytes, content_type: str | None) -> httpx2.Response:
    headers = {} if content_type is None else {"Content-Type": content_type}
    return httpx2.post(base + path, content=body, headers=headers, timeout=60)


def parity_cases(nba: NbaModels) -> list[tuple[str, bytes, str | None]]:
    frame = nba.trained.holdout.iloc[:25]
    records = [{c: float(v) for c, v in row.items()} for row in frame[FEATURES].to_dict("records")]
    text_number = [{**records[0], "poss": str(int(records[0]["poss"]))}]  # "5200" in a number column
    parquet = io.BytesIO()
    frame.to_parquet(parquet)
    as_json = "application/json"

    def body(value: object) -> bytes:
        return json.dumps(value).encode()

    split = {"columns": FEATURES, "data": [[r[c] for c in FEATURES] for r in records]}
    return [
        ("split", body({"dataframe_split": split}), as_json),
        ("split with index", body({"dataframe_split": {**split, "index": list(range(25))}}), as_json),
        ("records", body({"dataframe_records": records}), as_json),
        ("instances", body({"instances": records}), as_json),
        ("inputs by column", body({"inputs": {c: [r[c] for r in records] for c in FEATURES}}), as_json),
        ("extra text column", body({"dataframe_records": [{**r, "player_name": "X"} for r in records]}), as_json),
        ("text number", body({"dataframe_records": text_number}), as_json),
        ("params not an object", body({"dataframe_records": records, "params": [1]}), as_json),
        ("charset utf-8", body({"dataframe_records": records}), "application/json; charset=utf-8"),
        ("dataset rows as CSV", frame.to_csv(index=False).encode(), "text/csv"),
        ("dataset rows as Parquet", parquet.getvalue(), "application/vnd.apache.parquet"),
        ("not a number", body({"dataframe_records": [{**records[0], "mp": "lots"}]}), as_json),
        ("a missing value", body({"dataframe_records": [{**records[0], "mp": None}]}), as_json),
        ("no format key", body({"records": records}), as_json),
        ("not JSON", b"{not json", as_json),
        ("text/plain", body({"dataframe_records": records}), "text/plain"),
        ("latin-1", body({"dataframe_records": records}), "application/json; charset=latin-1"),
        ("unknown parameter", body({"dataframe_records": records}), "application/json; format=pandas-split"),
    ]


def test_the_same_requests_get_the_same_status_class_and_predictions(pair: Pair, nba: NbaModels) -> None:
    compared = []
    for name, body, content_type in parity_cases(nba):
        mine = post(pair.ours.server.base_url, "/invocations", body, content_type)
        theirs = post(pair.mlflow, "/invocations", body, content_type)
        assert mine.status_code // 100 == theirs.status_code // 100, (name, mine.text, theirs.text[:300])
        if theirs.status_code == 200:
            assert mine.json()["predictions"] == theirs.json()["predictions"], name
        else:
            assert mine.headers["content-type"] == "application/json", name  # a JSON error, always
        compared.append((name, theirs.status_code))
    assert sum(status == 200 for _, status in compared) == 11
    assert dict(compared)["text/plain"] == 415 and dict(compared)["latin-1"] == 415


def test_deliberate_difference_a_failing_model_is_500_here_400_in_mlflow(pair: Pair, nba: NbaModels) -> None:
    body = json.dumps({"dataframe_records": negative_records(nba.trained)}).encode()
    mine = post(pair.ours.server.base_url, "/v1/models/solo/versions/v9.0/invocations", body, "application/json")
    theirs = post(pair.mlflow_nan, "/invocations", body, "application/json")
    assert theirs.status_code == 400 and mine.status_code == 500
    assert "Input X contains NaN" in mine.json()["message"]


def test_deliberate_difference_no_content_type_is_415_here_mlflow_crashes(pair: Pair, nba: NbaModels) -> None:
    body = json.dumps({"dataframe_records": nba.records(1)}).encode()
    mine = post(pair.ours.server.base_url, "/invocations", body, None)
    theirs = post(pair.mlflow, "/invocations", body, None)
    assert theirs.status_code == 500  # MLflow 3.17 splits a missing header: AttributeError
    assert mine.status_code == 415 and "application/json" in mine.json()["message"]


def test_mlflows_scoring_client_works_unchanged(pair: Pair, nba: NbaModels) -> None:
    from mlflow.pyfunc.scoring_server.client import ScoringServerClient

    frame = nba.trained.holdout[FEATURES].iloc[:10]
    host, port = pair.ours.http_address.split(":")
    ours = ScoringServerClient(host, int(port))
    ours.wait_server_ready(timeout=10)
    prediction = ours.invoke(frame)
    host, port = pair.mlflow.removeprefix("http://").split(":")
    theirs = ScoringServerClient(host, int(port)).invoke(frame)
    assert prediction.get_predictions().values.tolist() == theirs.get_predictions().values.tolist()
    assert ours.get_version()  # our release; MLflow's names MLflow's
    for probe in ("/ping", "/health"):
        answer = httpx2.get(pair.ours.server.base_url + probe, timeout=10)
        assert answer.status_code == 200 and answer.text == "\n"

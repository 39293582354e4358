"""Documentation that is derived from the code must match it."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import REPO, subprocess_env


def test_tool_tables_match_the_server() -> None:
    done = subprocess.run(
        [sys.executable, "tools/gen_docs.py", "--check"], cwd=REPO, env=subprocess_env(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_readme_commands_are_what_ci_and_make_run() -> None:
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    makefile = (REPO / "Makefile").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "make test" in ci
    assert "demo: $(STAMP)\n\t$(VENV)/bin/nba-mcp-deploy demo" in makefile
    assert "test: $(STAMP) $(BROWSER_STAMP)\n\t$(PY) -m pytest" in makefile


def test_agent_session_transcript_regenerates(tmp_path) -> None:
    output = tmp_path / "session.md"
    done = subprocess.run(
        [sys.executable, "tools/agent_session.py", "--output", str(output)],
        cwd=REPO,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    text = output.read_text()
    for tool in ("register_model", "promote_model", "predict", "get_ab_test_results", "health_check"):
        assert f"**→ `{tool}`**" in text
    assert "invalid argument" in text or "valid number" in text  # the bad call's error came back as text
    assert '"verdict": "' in text
    committed = (REPO / "examples" / "agent_session.md").read_text()
    assert committed.startswith("# An agent session, as it happened")


def test_configuration_table_names_every_variable_and_field() -> None:
    import dataclasses

    from nba_mcp_deploy.config import ENVIRONMENT, DeploymentConfig

    rows = [line for line in (REPO / "docs" / "configuration.md").read_text().splitlines() if line.startswith("| `")]
    for variable, (field_name, _) in ENVIRONMENT.items():
        row = next((line for line in rows if line.startswith(f"| `{variable}` |")), None)
        assert row is not None, f"docs/configuration.md has no row for {variable}"
        assert f"`{field_name}`" in row, f"the row for {variable} does not name the field {field_name}"
    settable = {field_name for field_name, _ in ENVIRONMENT.values()}
    unsettable = {f.name for f in dataclasses.fields(DeploymentConfig)} - settable
    assert unsettable == {"extra"}, f"fields no environment variable sets: {sorted(unsettable)}"


def test_readme_stays_short_and_links_resolve() -> None:
    readme = REPO / "README.md"
    assert len(readme.read_bytes()) <= 12 * 1024
    for document in [readme, *REPO.joinpath("docs").glob("*.md")]:
        for target in re.findall(r"\]\((?!https?:)([^)#]+)", document.read_text()):
            assert (document.parent / target).exists(), f"{document.name} links to a missing {target}"

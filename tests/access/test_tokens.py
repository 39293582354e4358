"""Token files: parsing with line-precise errors, hashed constant-time matching, reloading, `token add`."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nba_mcp_deploy.access import Caller, Role
from nba_mcp_deploy.access.tokens import (
    TOKEN_PREFIX,
    TokenFile,
    TokenFileError,
    add_token,
    hash_token,
    match_token,
    parse_token_lines,
    read_token_file,
)
from nba_mcp_deploy.errors import ConflictError, InvalidInputError
from tests.conftest import subprocess_env

DIGEST = "a" * 64


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_lines_comments_and_blank_lines(tmp_path: Path) -> None:
    text = f"# team tokens\n\nalice admin {hash_token('t1')}\n  grafana   VIEWER   {hash_token('t2').upper()}  \n"
    entries = parse_token_lines(text, tmp_path / "tokens")
    assert [(e.name, e.role) for e in entries] == [("alice", Role.ADMIN), ("grafana", Role.VIEWER)]
    assert entries[1].digest == hashlib.sha256(b"t2").digest()


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("alice admin", "line 2 has 2 fields; expected 'name role sha256-hex-of-token'"),
        (f"alice admin {DIGEST} extra", "line 2 has 4 fields"),
        (f"-alice admin {DIGEST}", "line 2: token name '-alice' is not"),
        (f"alice root {DIGEST}", "line 2: role 'root' is not one of viewer, operator, admin"),
        ("alice admin nbamcp_secret", "line 2: 'nbamcp_secret' is not a SHA-256 hex digest"),
        ("alice admin " + "g" * 64, "is not a SHA-256 hex digest"),
        (f"bob viewer {DIGEST}", "line 2: token name 'bob' appears twice"),
    ],
)
def test_a_bad_line_is_named_with_the_file(tmp_path: Path, line: str, problem: str) -> None:
    path = write(tmp_path / "tokens", f"bob viewer {'b' * 64}\n{line}\n")
    with pytest.raises(TokenFileError) as refused:
        read_token_file(path)
    assert problem in str(refused.value)
    assert "NBA_MCP_AUTH_TOKENS_FILE" in str(refused.value) and str(path) in str(refused.value)


def test_missing_unsafe_and_odd_files_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(TokenFileError, match="does not exist; create it with `nba-mcp-deploy token add NAME ROLE`"):
        read_token_file(tmp_path / "nope")
    with pytest.raises(TokenFileError, match="is not a regular file"):
        read_token_file(tmp_path)
    open_file = write(tmp_path / "open", f"alice admin {DIGEST}\n")
    open_file.chmod(0o666)
    with pytest.raises(TokenFileError, match="writable by every user"):
        read_token_file(open_file)
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(TokenFileError, match="not UTF-8"):
        read_token_file(binary)


def test_matching_compares_hashes_and_never_accepts_the_stored_digest(tmp_path: Path) -> None:
    entries = parse_token_lines(f"a viewer {hash_token('alpha')}\nb admin {hash_token('beta')}\n", tmp_path)
    assert match_token(entries, "beta") == entries[1]
    assert match_token(entries, "alpha") == entries[0]
    for wrong in ("", "alph", "alpha ", hash_token("alpha"), "x" * 10_000, "\udcff"):
        assert match_token(entries, wrong) is None


def test_add_token_appends_a_hashed_line_to_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "tokens"
    token = add_token(path, "alice", "admin")
    assert token.startswith(TOKEN_PREFIX) and len(token) > 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == f"alice admin {hash_token(token)}\n"
    assert token not in path.read_text()
    second = add_token(path, "grafana", Role.VIEWER)
    assert second != token
    tokens = TokenFile(path)
    assert tokens.verify(token) == Caller("alice", Role.ADMIN)
    assert tokens.verify(second) == Caller("grafana", Role.VIEWER)
    with pytest.raises(ConflictError, match="a token named 'alice' already exists"):
        add_token(path, "alice", "viewer")
    with pytest.raises(InvalidInputError, match="invalid name"):
        add_token(path, "bad name", "viewer")
    with pytest.raises(InvalidInputError, match="allowed roles"):
        add_token(path, "carol", "superuser")
    assert len(read_token_file(path)) == 2


def test_a_line_without_a_final_newline_is_not_merged_with_the_next(tmp_path: Path) -> None:
    path = write(tmp_path / "tokens", f"alice admin {DIGEST}")
    token = add_token(path, "bob", "operator")
    assert TokenFile(path).verify(token) == Caller("bob", Role.OPERATOR)


def test_the_file_is_reread_when_it_changes_and_a_broken_file_refuses_everyone(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    first = add_token(path, "alice", "admin")
    tokens = TokenFile(path)
    assert tokens.verify(first) is not None
    second = add_token(path, "bob", "viewer")  # appended while "the server" runs
    assert tokens.verify(second) == Caller("bob", Role.VIEWER)
    lines = path.read_text().splitlines()
    path.write_text(lines[1] + "\n")  # alice's line removed: revoked
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert tokens.verify(first) is None and tokens.verify(second) is not None
    path.write_text(lines[1] + "\nbroken line\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 2_000_000))
    assert tokens.verify(second) is None  # fail closed until fixed
    path.write_text(lines[1] + "\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 3_000_000))
    assert tokens.verify(second) is not None
    path.unlink()
    assert tokens.verify(second) is None


def test_a_bad_file_at_start_up_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TokenFileError, match="line 1"):
        TokenFile(write(tmp_path / "tokens", "alice admin\n"))


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nba_mcp_deploy", *args],
        capture_output=True,
        text=True,
        env=subprocess_env(**env),
        timeout=60,
    )


def test_the_token_add_command_prints_the_token_once_and_stores_its_hash(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    done = run_cli("token", "add", "ci-bot", "operator", NBA_MCP_AUTH_TOKENS_FILE=str(path))
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token.startswith(TOKEN_PREFIX) and done.stdout.count(token) == 1
    assert "shown only now" in done.stderr and token not in done.stderr
    assert path.read_text() == f"ci-bot operator {hash_token(token)}\n"
    again = run_cli("token", "add", "ci-bot", "admin", NBA_MCP_AUTH_TOKENS_FILE=str(path))
    assert again.returncode == 2 and "already exists" in again.stderr and again.stdout == ""
    missing = run_cli("token", "add", "x", "viewer")
    assert missing.returncode == 2 and "set NBA_MCP_AUTH_TOKENS_FILE" in missing.stderr
    explicit = run_cli("token", "add", "x", "viewer", "--file", str(tmp_path / "other"))
    assert explicit.returncode == 0 and (tmp_path / "other").exists()

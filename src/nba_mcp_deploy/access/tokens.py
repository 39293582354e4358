"""Bearer tokens for the HTTP transport: a file of `name role sha256-hex` lines, never the tokens.

    # comments and blank lines are allowed
    alice   admin     9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    grafana viewer    2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae

Only hashes are stored, so the file leaks no token. A presented token is hashed and compared
with every entry in constant time (`hmac.compare_digest`, no early exit). `TokenFile` re-reads
the file when it changes, so `nba-mcp-deploy token add` and deleting a line take effect without
a restart; a file that becomes unreadable or invalid refuses every token until it is fixed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

from nba_mcp_deploy.access.permissions import ROLE_NAMES, Caller, Role
from nba_mcp_deploy.errors import ConfigError, ConflictError, InvalidInputError
from nba_mcp_deploy.logs import get_logger

log = get_logger(__name__)

TOKEN_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"
TOKEN_NAME_RULE = "1-64 letters, digits, '_', '.', '@' or '-', starting with a letter or digit"
TOKEN_PREFIX = "nbamcp_"
MAX_TOKEN_LENGTH = 512
_NAME = re.compile(TOKEN_NAME_PATTERN)
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


class TokenFileError(ConfigError):
    """The token file is missing, unreadable, unsafe or has a malformed line (names file and line)."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__("NBA_MCP_AUTH_TOKENS_FILE", str(path), problem)


@dataclass(frozen=True)
class TokenEntry:
    """One line of the file: the token's name, its role and the SHA-256 of the token."""

    name: str
    role: Role
    digest: bytes


def hash_token(token: str) -> str:
    """The hex SHA-256 of a token, as written in the file."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def validate_token_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInputError("name", name, f"a token name is {TOKEN_NAME_RULE}")
    return name


def parse_token_lines(text: str, path: Path) -> tuple[TokenEntry, ...]:
    """Every entry of a token file's text; TokenFileError naming the line for anything malformed."""
    entries: list[TokenEntry] = []
    names: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        where = f"line {number}"
        if len(parts) != 3:
            raise TokenFileError(path, f"{where} has {len(parts)} fields; expected 'name role sha256-hex-of-token'")
        name, role_name, digest = parts
        if not _NAME.fullmatch(name):
            raise TokenFileError(path, f"{where}: token name {name[:80]!r} is not {TOKEN_NAME_RULE}")
        if name in names:
            raise TokenFileError(path, f"{where}: token name {name!r} appears twice; names must be unique")
        if role_name.lower() not in ROLE_NAMES:
            raise TokenFileError(path, f"{where}: role {role_name[:40]!r} is not one of {', '.join(ROLE_NAMES)}")
        if not _HEX.fullmatch(digest):
            problem = f"{digest[:80]!r} is not a SHA-256 hex digest (64 hex digits); store the hash, not the token"
            raise TokenFileError(path, f"{where}: {problem}")
        names.add(name)
        entries.append(TokenEntry(name, Role(role_name.lower()), bytes.fromhex(digest)))
    return tuple(entries)


def read_token_file(path: Path) -> tuple[TokenEntry, ...]:
    """Read and check a token file. Refuses one that others may write (they could add an admin)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise TokenFileError(path, "is not a regular file")
        if info.st_mode & stat.S_IWOTH:
            raise TokenFileError(path, f"is writable by every user (mode {stat.S_IMODE(info.st_mode):o}); chmod o-w it")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TokenFileError(path, "does not exist; create it with `nba-mcp-deploy token add NAME ROLE`") from None
    except UnicodeDecodeError:
        raise TokenFileError(path, "is not UTF-8 text") from None
    except OSError as exc:
        raise TokenFileError(path, f"cannot be read ({exc.strerror or exc})") from None
    return parse_token_lines(text, path)


def match_token(entries: tuple[TokenEntry, ...], token: str) -> TokenEntry | None:
    """The entry whose digest is the token's, comparing with every entry in constant time."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
    found: TokenEntry | None = None
    for entry in entries:
        if hmac.compare_digest(entry.digest, digest):
            found = entry
    return found


class TokenFile:
    """The token file as it is now: re-read when its size, time or inode changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._problem: str | None = None
        self._signature: tuple[int, int, int] | None = self._stat()
        self._entries: tuple[TokenEntry, ...] = read_token_file(path)  # a bad file at start-up is a configuration error

    @property
    def entries(self) -> tuple[TokenEntry, ...]:
        self._refresh()
        return self._entries

    def verify(self, token: str) -> Caller | None:
        """The caller a token stands for, or None for an unknown token (or while the file is broken)."""
        entry = match_token(self.entries, token)
        return None if entry is None else Caller(entry.name, entry.role)

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            info = self.path.stat()
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size, info.st_ino)

    def _refresh(self) -> None:
        signature = self._stat()
        if signature == self._signature and signature is not None:
            return
        with self._lock:
            if signature == self._signature and signature is not None:
                return
            try:
                entries = read_token_file(self.path)
            except TokenFileError as exc:
                if self._problem != str(exc):
                    log.error("token file unusable: every token is refused until fixed", extra={"error": str(exc)})
                self._problem = str(exc)
                self._entries = ()
            else:
                if self._problem is not None or entries != self._entries:
                    log.info("token file reloaded", extra={"tokens": len(entries)})
                self._problem = None
                self._entries = entries
            self._signature = signature


def new_token() -> str:
    """A fresh random token (256 bits), prefixed so secret scanners can recognise it."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def add_token(path: Path, name: str, role: Role | str) -> str:
    """Append a new token for `name` with `role` to the file (created 0600) and return the token.

    The token itself is returned once and never stored. Refuses a name already in the file.
    """
    validate_token_name(name)
    parsed_role = Role.parse(role)
    existing = read_token_file(path) if path.exists() else ()
    if any(entry.name == name for entry in existing):
        raise ConflictError(
            f"a token named {name!r} already exists in {str(path)!r}; pick another name or remove its line"
        )
    token = new_token()
    line = f"{name} {parsed_role.value} {hash_token(token)}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            if path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n"):
                handle.write("\n")
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise TokenFileError(path, f"cannot be written ({exc.strerror or exc})") from None
    return token

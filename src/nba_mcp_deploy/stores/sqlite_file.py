"""Looking at a registry file's bytes before SQLite touches it, so a bad file is refused, not reset.

SQLite itself opens almost anything lazily and reports damage only when a damaged page is
read. Reading the 100-byte header first gives a clear answer for the common cases: a file
that is not SQLite at all, a truncated one, or one written by another application.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nba_mcp_deploy.errors import StoreError

SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100
WAL_HEADER_SIZE = 32


@dataclass(frozen=True)
class FileHeader:
    """What the header of an existing SQLite file says."""

    page_size: int
    application_id: int
    user_version: int


def refuse(path: Path, why: str) -> StoreError:
    """The error for a file we will not use: what is wrong, that it was left alone, what to do."""
    return StoreError(
        f"the registry database {str(path)!r} cannot be used: {why}. The file was left untouched; "
        "restore it from a backup or move it away to start an empty registry, "
        "or use another registry directory"
    )


def inspect_database_file(path: Path) -> FileHeader | None:
    """The header of `path`; None when the file is missing or empty (a new registry).

    Raises StoreError for a directory, an unreadable file, a file that is not SQLite, or a
    file shorter than its header says (checked only when no write-ahead log holds newer pages,
    because a checkpoint interrupted by a crash legitimately leaves the file short until the
    log is replayed).
    """
    try:
        if path.is_dir():
            raise refuse(path, "it is a directory")
        size = path.stat().st_size
        if size == 0:
            return None
        with path.open("rb") as handle:
            head = handle.read(HEADER_SIZE)
        wal = path.with_name(path.name + "-wal")
        wal_has_frames = wal.exists() and wal.stat().st_size > WAL_HEADER_SIZE
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise refuse(path, f"it cannot be read ({exc.strerror or exc})") from exc
    if not head.startswith(SQLITE_MAGIC[: len(head)]):
        raise refuse(path, "it is not a SQLite database (unknown or garbage content)")
    if len(head) < HEADER_SIZE:
        raise refuse(path, f"it is truncated ({size} bytes, shorter than a SQLite header)")
    raw_page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if raw_page_size == 1 else raw_page_size
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        raise refuse(path, f"its header is corrupt (page size {raw_page_size})")
    pages = int.from_bytes(head[28:32], "big")
    size_is_valid = pages > 0 and head[24:28] == head[92:96]
    if not wal_has_frames and (size % page_size or (size_is_valid and size < pages * page_size)):
        expected = f"{pages * page_size} bytes" if size_is_valid else f"a multiple of {page_size} bytes"
        raise refuse(path, f"it is truncated or damaged ({size} bytes; its header says {expected})")
    return FileHeader(
        page_size=page_size,
        application_id=int.from_bytes(head[68:72], "big", signed=True),
        user_version=int.from_bytes(head[60:64], "big", signed=True),
    )

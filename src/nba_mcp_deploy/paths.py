"""Confining file paths to configured roots: model files (pickle runs code) and data files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nba_mcp_deploy.errors import InvalidInputError, NotFoundError, PermissionDeniedError


def confine(path: str | Path, roots: Sequence[Path], *, what: str, field: str) -> Path:
    """Resolve `path` (following symlinks) and return it only if it lies inside one of `roots`.

    A relative path is taken relative to the first root. A symlink that points outside every
    root is refused, because the check is made on the fully resolved path.
    """
    if not roots:
        raise PermissionDeniedError(f"{field}: no trusted directories are configured for {what}")
    if "\x00" in str(path):
        raise InvalidInputError(field, path, "a file path (without NUL characters)")
    try:
        candidate = Path(path).expanduser()
        if not candidate.is_absolute():
            candidate = roots[0] / candidate
        resolved = candidate.resolve(strict=False)
        exists = resolved.exists()
    except (OSError, RuntimeError) as exc:  # too long, a symlink loop, an unknown ~user
        raise InvalidInputError(field, path, f"a usable file path ({exc})") from None
    resolved_roots = [root.resolve(strict=False) for root in roots]
    if not any(resolved == root or resolved.is_relative_to(root) for root in resolved_roots):
        listed = ", ".join(str(r) for r in resolved_roots)
        raise PermissionDeniedError(
            f"{field}: {str(path)!r} resolves to {str(resolved)!r}, outside the trusted directories for "
            f"{what} ({listed}); move it into one of them or add its directory to the configured roots"
        )
    if not exists:
        hint = "" if Path(path).is_absolute() else f" (relative paths are taken from {roots[0]})"
        raise NotFoundError(f"{field}: {str(path)!r} does not exist: looked at {str(resolved)!r}{hint}")
    return resolved

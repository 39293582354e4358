"""`.skops` files: scikit-learn models without pickle's arbitrary code execution.

skops refuses types it does not trust by default; we additionally trust types from
scikit-learn, NumPy and SciPy (what a fitted estimator is made of) and refuse anything else,
naming the types, so a crafted file cannot smuggle in a callable.
"""

from __future__ import annotations

from pathlib import Path

from nba_mcp_deploy.errors import ModelLoadError
from nba_mcp_deploy.serving.estimator import EstimatorModel

TRUSTED_MODULE_PREFIXES = ("sklearn.", "numpy.", "scipy.")


def load_skops_file(path: Path, *, source: str) -> EstimatorModel:
    try:
        import skops.io as sio

        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:
        raise ModelLoadError(f"{source}: not a readable skops file ({type(exc).__name__}: {exc})") from exc
    refused = [t for t in untrusted if not t.startswith(TRUSTED_MODULE_PREFIXES)]
    if refused:
        raise ModelLoadError(f"{source}: refusing to load types outside scikit-learn/NumPy/SciPy: {refused[:10]}")
    try:
        estimator = sio.load(path, trusted=list(untrusted))
    except Exception as exc:
        raise ModelLoadError(f"{source}: skops could not load it ({type(exc).__name__}: {exc})") from exc
    return EstimatorModel(estimator, source=source)

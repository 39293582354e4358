"""Importing mlflow: the package first, then its submodules.

Two threads entering mlflow through different submodules at the same moment (the relay reaching
for `mlflow.entities` while a tool call loads a model through `mlflow.models`) deadlock inside
importlib, which breaks the deadlock by handing one of them a half-initialised package:
`ImportError: cannot import name 'EvaluationDataset' from 'mlflow.entities'`. A thread that
imports the package itself first holds no submodule lock while it waits for another thread to
finish initialising it, so every place that imports mlflow calls `import_mlflow()` first.
"""

from __future__ import annotations

from types import ModuleType


def import_mlflow() -> ModuleType:
    """The mlflow package, fully initialised (import its submodules after this)."""
    import mlflow

    return mlflow

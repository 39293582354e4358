"""`models:/` URIs, parsed once for the loader and for finding a version's training run."""

from __future__ import annotations

import re
from dataclasses import dataclass

# models:/<name>/<version or stage>[/path], models:/<name>@<alias>[/path], models:/<logged model id>
_MODELS_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?P<reference>/[^/]+|@[^/]+)?(?:/(?P<path>.+))?$")


@dataclass(frozen=True)
class ModelsUri:
    """What a `models:/` URI names: a registered version by number or alias, a (deprecated) stage,
    or, with none of those, a logged model by id; `path` is within its artifacts."""

    name: str
    number: str | None = None
    alias: str | None = None
    stage: str | None = None
    path: str = ""

    @property
    def names_registered_version(self) -> bool:
        return self.number is not None or self.alias is not None


def parse_models_uri(uri: str) -> ModelsUri | None:
    """The parts of a `models:/` URI, or None when `uri` is not one."""
    match = _MODELS_URI.match(uri)
    if match is None:
        return None
    name, reference, path = match["name"], match["reference"], match["path"] or ""
    if reference is None:
        return ModelsUri(name, path=path)
    if reference.startswith("@"):
        return ModelsUri(name, alias=reference[1:], path=path)
    if reference[1:].isdigit():
        return ModelsUri(name, number=reference[1:], path=path)
    return ModelsUri(name, stage=reference[1:], path=path)

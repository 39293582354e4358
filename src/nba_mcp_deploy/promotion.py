"""Registry stages drive serving: what reaches production in the registry serves traffic.

- Before a version enters production it must be deployed: if it is not and it has a
  `model_uri` (and auto-deploy is on), it is deployed as a standby first; a load failure
  refuses the promotion, so the registry never points at a version that cannot serve.
- After the change is committed, the version now in production becomes the active version
  (promotion and rollback alike), in one saved routing revision that also ends an A/B split
  already sending every request to it (the last step of a canary). Versions leaving production
  stay deployed as standbys.
"""

from __future__ import annotations

from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.registry.records import ModelVersion, StageChange
from nba_mcp_deploy.registry.stages import Stage
from nba_mcp_deploy.serving.control_plane import SplitOnActivation
from nba_mcp_deploy.serving.manager import ModelServingManager

log = get_logger(__name__)


class ServingStageListener:
    """A registry `StageListener` that keeps serving in step with production."""

    def __init__(self, manager: ModelServingManager, *, auto_deploy: bool = True) -> None:
        self._manager = manager
        self._auto_deploy = auto_deploy

    def before_stage_change(self, version: ModelVersion, change: StageChange) -> None:
        if change.to_stage is not Stage.PRODUCTION or self._manager.is_deployed(version.model_id, version.version):
            return
        if version.model_uri is None or not self._auto_deploy:
            return  # a registry-only promotion: nothing to serve yet
        log.info("deploying before promotion", extra={"model_id": version.model_id, "version": version.version})
        self._manager.deploy_model(version.model_id, version.version, model_uri=version.model_uri, set_active=False)

    def on_stage_changed(self, version: ModelVersion, change: StageChange) -> None:
        if change.to_stage is Stage.PRODUCTION and self._manager.is_deployed(version.model_id, version.version):
            self._manager.set_active_version(
                version.model_id, version.version, split=SplitOnActivation.CLEAR_IF_SETTLED
            )

"""The Python API of the seed document: one facade per seed class over the server's own services.

    serving.py      ModelServingManager (shadow.py: its shadow mode)
    registry.py     ModelRegistry, ModelStage
    monitoring.py   ModelMonitor
    versioning.py   ModelVersionManager
    decorators.py   handle_errors, track_metric, require_permission (error_alerts.py: notify=True)
    assembly.py     how each is built from keywords and the environment (environment.py)

Import the names from the package (`from nba_mcp_deploy import ModelServingManager`); each loads
on first use, so `import nba_mcp_deploy` stays cheap. Nothing is imported here.
"""

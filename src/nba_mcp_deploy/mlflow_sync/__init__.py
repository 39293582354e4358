"""The MLflow adapter: the registry, deployments and metrics mirrored to MLflow through a durable
outbox, and models and versions imported from it.

Modules, one job each:
    events      what goes into the outbox (topics, JSON payloads built from core objects)
    mirrors     the core's listeners that queue changes (registry, serving, monitoring)
    flusher     serving metrics queued every 30 s, off the predict path
    relay       the thread that delivers the outbox in order, waiting out MLflow outages
    delivery    one outbox entry applied to MLflow, idempotently
    gateway     the MlflowClient and MLflow's exceptions translated into ours
    probe       "does the tracking server answer?" in two seconds
    importing   mlflow imported package first (threads entering it at once break otherwise)
    runs        the registry's TrainingRuns port, read from MLflow
    importer    sync_from_mlflow: MLflow models and versions into the registry
    exporter    queue_missing: what MLflow lacks of the registry, queued
    sync        MlflowSync: all of it attached to the services

Importing this package imports nothing (`mlflow` is imported by the gateway on first use);
the services attach it with `sync.MlflowSync` when MLflow is enabled.
"""

"""Garbage-collector settings for the HTTP server process.

With MLflow, pandas and scikit-learn loaded the interpreter holds a couple of million objects, and
a full (oldest-generation) collection pauses every request for 100-200 ms. CPython's default
young threshold (700 allocations) runs a young collection about once per request, so the objects
of requests still in flight (waiting for a batch, or for their turn on the event loop) survive two
collections and are promoted to the oldest generation, which then fills up and is collected every
second or so under load: the p99 latency becomes the pause. A larger young threshold collects
the young generation a few times a second instead, after most of its objects have already been
freed by reference counting, so little is promoted and full collections become rare.
"""

import gc

# Allocations between young collections, then young collections per middle one, and middle ones
# per full one (CPython's defaults: 700, 10, 10).
THRESHOLDS = (50_000, 20, 10)


def tune_for_serving() -> None:
    """Apply `THRESHOLDS` to this process (called once by the HTTP server at start-up)."""
    gc.set_threshold(*THRESHOLDS)

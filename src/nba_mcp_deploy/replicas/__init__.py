"""Several replicas serving one deployment: routing kept in step through the store, traffic added up.

- `sync.py`: `ControlSync` applies routing documents other replicas saved (polling, and woken at
  once by PostgreSQL NOTIFY).
- `traffic.py`: `TrafficCounters`, this replica's per-version counters, flushed to the store
  periodically; `fleet.py` adds every replica's up for A/B results and canary guards.
"""

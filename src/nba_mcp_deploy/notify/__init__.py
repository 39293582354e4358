"""Adapters that push alerts out of the process (the monitoring core only knows `AlertNotifier`)."""

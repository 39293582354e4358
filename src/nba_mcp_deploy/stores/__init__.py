"""Adapters that persist the registry: one module per backend, all behind `RegistryStore`."""

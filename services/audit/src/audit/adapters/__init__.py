"""Adapters of the audit service: SQL store, queries, alert sinks."""

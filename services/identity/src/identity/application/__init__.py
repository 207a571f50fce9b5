"""Use cases: load a stream, let the domain decide, record the events."""

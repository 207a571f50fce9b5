"""The audit domain: pure rules over audit records, no I/O."""

"""Contracts and plumbing shared by the authtrail services.

Nothing here holds a business rule of one service: event schemas, messaging,
telemetry, database and settings helpers only.
"""

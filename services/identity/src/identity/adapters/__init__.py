"""Adapters: the database, the broker, hashing and signing behind small faces."""

"""The peer: a minimal fastapi-users application, run from bench/.venv-peer."""

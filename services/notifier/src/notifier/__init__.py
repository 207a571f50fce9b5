"""The notifier service of authtrail."""

__version__ = "0.1.0"

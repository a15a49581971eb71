"""The registry's own exceptions: what its services raise when the rules refuse a change.

The web floor turns them into pages and JSON (webapp/web/errors.py), the CLI into a one-line error.
"""

from __future__ import annotations


class RegistryError(Exception):
    """A request the rules refuse, or input that cannot be used. The message is Russian, for users."""


class NotFound(RegistryError):
    """No such person, insurer, clinic, key or user (or not one the caller may see)."""

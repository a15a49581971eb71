"""Errors the registry raises on purpose, with a message for the person who asked."""


class RegistryError(Exception):
    """A request the rules refuse, or input that cannot be used. The message is Russian, for users."""


class NotFound(RegistryError):
    """No such person, insurer, clinic, key or user (or not one the caller may see)."""

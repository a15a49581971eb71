"""Helpers the tests share: plain functions and constants, imported by name (fixtures stay in conftest.py)."""

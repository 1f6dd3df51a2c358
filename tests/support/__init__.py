"""Helpers for tests that run the real services as processes."""

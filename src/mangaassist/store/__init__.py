"""Persistence ports and their adapters."""

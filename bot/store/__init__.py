"""Persistence: sqlmodel tables, the engine, and keyword-only repository functions taking a Session.

Repository functions never commit: the caller (a service, through ``Database.write()``) owns the
transaction, so a ledger entry and the running balance it moves are written together or not at all.
It imports only ``bot.domain`` and itself (``tests/test_layering.py``).
"""

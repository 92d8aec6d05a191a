"""Pure rules: pricing, limits, ledger arithmetic, cycles, forecasts and command parsing.

Nothing here imports Slack or the database, so every rule is tested directly as a function: it imports
only ``bot.domain`` and ``bot.credits_file`` (the credits file's value types: pricing, roles, digest
schedules), which imports nothing of the bot (``tests/test_layering.py``).
"""

"""Pure rules: pricing, limits, ledger arithmetic, cycles, forecasts and command parsing.

Nothing here imports Slack or the database, so every rule is tested directly as a function.
"""

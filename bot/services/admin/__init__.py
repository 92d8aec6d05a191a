"""``/credits admin`` changes: roles, limits, top-ups, adjustments and teams.

May import: ``services.balances``, ``services.workspace``, ``bot.domain``, ``bot.store``, ``bot.credits_file``.
"""

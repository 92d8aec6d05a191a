"""The weekly digest's figures and schedule, and the budget alerts.

May import: ``services.balances``, ``services.workspace``, ``bot.domain``, ``bot.store``, ``bot.credits_file``.
"""

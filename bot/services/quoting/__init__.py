"""What a task will cost before it starts: the quote, its likely range from the team's history, and the
limits and budgets it would meet.

May import: ``services.balances``, ``services.workspace``, ``bot.domain``, ``bot.store``, ``bot.credits_file``.
"""

"""A team's credits now and ahead: the running balance, the plan cycle and renewal, the forecast, and
project budgets.

May import: ``services.workspace``, ``bot.domain``, ``bot.store``, ``bot.credits_file``.
"""

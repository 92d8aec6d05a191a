"""Keter Labs' own charges as facts: recording the feed's and the file's charges, reconciling its
reported balance, and the charge history.

May import: ``services.tasks``, ``services.balances``, ``services.workspace``, ``bot.domain``,
``bot.store``, ``bot.credits_file``.
"""

"""Deciding what a run or an ask opened: approve, deny, raise, expire; posting claims, nudges and
reminders; requests for extra credits.

May import: ``services.tasks``, ``services.quoting``, ``services.balances``, ``services.workspace``,
``bot.domain``, ``bot.store``, ``bot.credits_file``.
"""

"""Behaviour shared by several listeners (an approval decided from a button or a modal, the quote form),
which must not import each other.

May import: ``bot.slack.outbound``, ``bot.slack.blocks``, ``bot.slack.context``, ``bot.services``,
``bot.domain``. Not ``bot.slack.listeners``.
"""

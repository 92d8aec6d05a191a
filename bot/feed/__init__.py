"""Keter Labs' charge feed: the signed webhook ``POST /keter/charges`` beside the Slack endpoints.

It imports no listener (``bot.slack.listeners``).
"""

"""Who is asking and how their workspace is set up: members and roles, the effective config (the credits
file plus admin changes), install state, admin access, the audit trail, Slack delivery claims, and the
plain records other layers render.

Owns: nothing of credits. May import: ``bot.domain``, ``bot.store``, ``bot.credits_file``. The lowest
service package: every other one may import it; it imports none of them.
"""

"""The sqlmodel tables, one module per aggregate; importing this package registers them all on
``SQLModel.metadata`` (migrations and ``create_all`` need every one).
"""

from bot.store.tables import columns, keter, ledger, posts, rollups, tasks, workspace  # noqa: F401

"""Alembic environment: run with a connection handed over by ``Database.upgrade()``.

Revision ids are never renumbered. The shipped ones (``0001`` … ``0017_week_usage``, with gaps) stay
as they are: every deployed database stores its revision id in ``alembic_version``, and a renamed id
is a database Alembic can no longer place. A new revision takes the id Alembic generates
(``alembic revision -m "…"`` from the repository root); see ``README.md`` beside this file.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `python -m bot db upgrade`, which supplies the connection")

context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

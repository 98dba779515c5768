"""Alembic's environment: host_tools.migrate hands over an open connection inside its transaction."""
from alembic import context

from host_tools import schema

context.configure(connection=context.config.attributes["connection"], target_metadata=schema.metadata,
                  render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

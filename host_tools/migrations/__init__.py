"""Alembic's scripts for the host database (run by host_tools.migrate; no alembic.ini needed)."""

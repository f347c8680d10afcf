"""Persistence: one SQLAlchemy Core schema for SQLite and PostgreSQL, and the store over it."""

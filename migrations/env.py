"""Alembic environment: the URL comes from the caller (tovholder db upgrade), never from alembic.ini."""
from alembic import context
from sqlalchemy import pool

from engine.db import make_db_engine
from engine.models import Base
from engine.partitions import is_partition_name

config = context.config
target_metadata = Base.metadata


def include_name(name, type_, parent_names):
    """Autogenerate leaves PostgreSQL's month partitions alone (migration 0022): they are no models."""
    return not (type_ == "table" and is_partition_name(name))


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=target_metadata, include_name=include_name)
        with context.begin_transaction():
            context.run_migrations()
        return
    db_engine = make_db_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with db_engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, include_name=include_name)
        with context.begin_transaction():
            context.run_migrations()
    db_engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()

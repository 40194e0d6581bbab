"""`okrbot migrate`: upgrade a database to the newest schema with Alembic."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(str(files("okrbot.migrations")))))
    # ConfigParser treats % as interpolation; URLs may contain it (escaped passwords, options).
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str, engine: Engine | None = None) -> None:
    """Bring an empty or older database to head. Safe to run at every start."""
    config = alembic_config(database_url)
    if engine is None:
        command.upgrade(config, "head")
        return
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

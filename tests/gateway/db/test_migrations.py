"""The Alembic migrations build exactly the schema the code declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from gateway.config import Settings
from gateway.db.engine import make_engine
from gateway.db.migrate import upgrade_async
from gateway.db.tables import Base


async def test_migrated_schema_matches_the_models(migrated: Settings) -> None:
    settings = migrated
    await upgrade_async(settings.database_url)  # a second run changes nothing

    def diff(conn: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))

    engine = make_engine(settings.database_url)
    async with engine.connect() as conn:
        changes = await conn.run_sync(diff)
    await engine.dispose()
    assert changes == []

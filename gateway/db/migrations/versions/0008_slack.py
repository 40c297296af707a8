"""slack threads and event dedupe (placeholder, filled by the slack threads and event dedupe work)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 13:45:00
"""

from collections.abc import Sequence

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

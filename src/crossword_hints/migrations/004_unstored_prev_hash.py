"""Stop storing ``prev_hash`` in each activity entry.

The hash of an entry still covers the hash of the entry before it, but
that value is the ``hash`` of the entry with the id before (or the chain
head's ``anchor_hash`` for the oldest kept entry), so storing it again
cost 64 bytes per entry and told nothing new. Hashes written before this
migration stay valid, because they were computed from the same value.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql("ALTER TABLE activity_logs DROP COLUMN prev_hash")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql(
        "ALTER TABLE activity_logs ADD COLUMN prev_hash VARCHAR(64) NOT NULL DEFAULT ''"
    )
    migrator.sql(
        "UPDATE activity_logs SET prev_hash = COALESCE("
        "(SELECT before.hash FROM activity_logs AS before"
        " WHERE before.id = activity_logs.id - 1),"
        " (SELECT anchor_hash FROM activity_chain WHERE id = 1))"
    )

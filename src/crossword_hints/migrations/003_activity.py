"""Create the activity log: ``activity_logs`` and the head of its hash chain.

``activity_logs`` keeps the older app's columns first, so ``select *``
reads as it did. Entry ids are assigned by the application under the
chain lock, so the id column has no sequence. The indexes serve the
report's newest-first keyset pages, its actor, action and record filters,
and the rebuild of one record's history.
"""

import peewee as pw
from peewee_migrate import Migrator

GENESIS = "0" * 64

INDEXES = {
    "activity_logs_created": "created_at, id",
    "activity_logs_actor": "actor, created_at, id",
    "activity_logs_action": "action, created_at, id",
    "activity_logs_record": "item_type, item_id, version",
    "activity_logs_group": "group_id",
}


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class ActivityLog(pw.Model):
        id = pw.IntegerField(primary_key=True)
        actor = pw.CharField(max_length=64, default="system")
        action = pw.CharField(max_length=16)
        item_type = pw.CharField(max_length=64, null=True)
        item_id = pw.CharField(max_length=64, null=True)
        act_action = pw.TextField(default="")
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()
        changes = pw.TextField(null=True)
        version = pw.IntegerField(null=True)
        snapshot = pw.TextField(null=True)
        group_id = pw.CharField(max_length=64, null=True)
        source = pw.TextField(null=True)
        client_addr = pw.CharField(max_length=64, null=True)
        prev_hash = pw.CharField(max_length=64)
        hash = pw.CharField(max_length=64)

        class Meta:
            table_name = "activity_logs"

    @migrator.create_model
    class ChainHead(pw.Model):
        id = pw.IntegerField(primary_key=True)
        first_id = pw.IntegerField()
        anchor_hash = pw.CharField(max_length=64)
        last_id = pw.IntegerField()
        last_hash = pw.CharField(max_length=64)

        class Meta:
            table_name = "activity_chain"

    for name, columns in INDEXES.items():
        migrator.sql(f"CREATE INDEX {name} ON activity_logs ({columns})")

    migrator.sql(
        "INSERT INTO activity_chain (id, first_id, anchor_hash, last_id, last_hash)"
        f" VALUES (1, 1, '{GENESIS}', 0, '{GENESIS}')"
    )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql("DROP TABLE IF EXISTS activity_chain")
    migrator.sql("DROP TABLE IF EXISTS activity_logs")

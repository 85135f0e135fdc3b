"""Import the older app's ``activity_logs`` table into the activity log.

:func:`crossword_hints.catalogue.legacy.import_legacy` calls
:func:`import_activity_logs` inside its own transaction, after the
catalogue tables, so the history and the rows it describes commit together.
"""

from __future__ import annotations

import sqlite3


def import_activity_logs(
    source: sqlite3.Connection, *, actor: str, dry_run: bool
) -> dict:
    """Copy the older app's activity entries; return counts by outcome.

    *actor* is the user id recorded for entries made by the import itself.
    With *dry_run* the caller rolls back afterwards, so the counts describe
    what would be written.
    """
    # NOTE: the old entries are not copied yet, so nothing of activity_logs
    # is imported and the counts are always zero.
    return {"imported": 0, "skipped": 0}

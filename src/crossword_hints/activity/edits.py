"""Word-level edits of long text, so that an update stores only what changed.

An update entry normally stores ``[old, new]`` for each changed column.
For long text, where a change is often a word or two, it stores an *edit*
instead: ``{"edit": [[start, removed, added], ...]}``. Each step records
that the text ``removed``, found at character ``start`` of the old value,
became ``added``. The steps are in order and do not overlap. The removed
text is kept, so an edit can be checked against the value it is applied
to, and read backwards.

The words are found the same way the history page marks them: runs of
spaces and runs of other characters.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from .values import canonical, short

#: Words and the spaces between them. Joined again, they give the text back.
TOKENS = re.compile(r"\s+|\S+")

#: Text columns whose old and new values together are shorter than this
#: are stored whole: an edit would save little and read worse.
EDIT_FROM = 160

#: An edit replaces the pair only when it takes at most this share of it.
EDIT_SHARE = 0.5


class EditMismatch(ValueError):
    """An edit does not fit the text it was applied to."""


def steps(old: str, new: str) -> list[list[Any]]:
    """Return the steps that turn *old* into *new*, word by word."""
    before = TOKENS.findall(old)
    after = TOKENS.findall(new)
    starts = [0]
    for token in before:
        starts.append(starts[-1] + len(token))

    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    found = []
    for operation, i1, i2, j1, j2 in matcher.get_opcodes():
        if operation != "equal":
            found.append([starts[i1], "".join(before[i1:i2]), "".join(after[j1:j2])])
    return found


def is_edit(value: Any) -> bool:
    """Tell whether a logged change of one column is an edit."""
    return isinstance(value, dict) and isinstance(value.get("edit"), list)


def apply_edit(text: Any, edit: dict[str, Any]) -> str:
    """Return *text* with *edit* applied; raise :class:`EditMismatch` if it
    does not fit."""
    if not isinstance(text, str):
        raise EditMismatch(f"an edit needs text to apply to, not {text!r}")
    parts = []
    position = 0
    for step in edit["edit"]:
        if not (
            isinstance(step, list)
            and len(step) == 3
            and isinstance(step[0], int)
            and isinstance(step[1], str)
            and isinstance(step[2], str)
        ):
            raise EditMismatch(f"invalid edit step {step!r}")
        start, removed, added = step
        if start < position or text[start : start + len(removed)] != removed:
            raise EditMismatch(f"expected {removed!r} at character {start}")
        parts.append(text[position:start])
        parts.append(added)
        position = start + len(removed)
    parts.append(text[position:])
    return "".join(parts)


def compact(changes: dict[str, list]) -> dict[str, Any]:
    """Replace the ``[old, new]`` pairs of long text with edits where shorter."""
    stored: dict[str, Any] = {}
    for column, pair in changes.items():
        old, new = pair
        stored[column] = pair
        if not (isinstance(old, str) and isinstance(new, str)):
            continue
        if len(old) + len(new) < EDIT_FROM:
            continue
        edit = {"edit": steps(old, new)}
        if len(canonical(edit)) <= EDIT_SHARE * len(canonical(pair)):
            stored[column] = edit
    return stored


def describe(column: str, edit: dict[str, Any], limit: int = 3) -> str:
    """Describe what an edit changed, in one line for the entry's summary."""
    found = edit["edit"]
    parts = []
    for _, removed, added in found[:limit]:
        if not removed:
            parts.append(f"added {short(added, 40)}")
        elif not added:
            parts.append(f"removed {short(removed, 40)}")
        else:
            parts.append(f"{short(removed, 40)} -> {short(added, 40)}")
    if len(found) > limit:
        parts.append(f"and {len(found) - limit} more")
    return f"{column}: {', '.join(parts)}"

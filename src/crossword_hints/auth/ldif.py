"""A read-only directory loaded from LDIF files.

It reads the same layout as the real OpenLDAP tree: ``inetOrgPerson``
entries with ``uid``, ``cn`` and an ``{SSHA}`` ``userPassword``, and
``posixGroup`` entries whose ``memberUid`` values name people, including
``changetype: modify`` records that add members. It serves ``make run``
and tests that need no real server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable
from pathlib import Path

from .directory import InvalidCredentials, PasswordChangeRejected, Person

#: The demo directory that ships with the package.
DEMO_FILES = [
    Path(__file__).parent / "demo" / "base.ldif",
    Path(__file__).parent / "demo" / "users.ldif",
]


def parse_ldif(text: str) -> list[dict[str, list[str]]]:
    """Split LDIF *text* into records of attribute name to values.

    Handles comments, continuation lines, base64 values (``attr:: ...``)
    and ``changetype: modify`` records, whose ``add:`` lines are kept as
    ordinary attributes.
    """
    records: list[dict[str, list[str]]] = []
    lines: list[str] = []

    for raw in text.splitlines():
        if raw.startswith(" ") and lines:
            lines[-1] += raw[1:]
        else:
            lines.append(raw)

    record: dict[str, list[str]] = {}
    for line in lines + [""]:
        if not line.strip():
            if record:
                records.append(record)
                record = {}
            continue
        if line.startswith("#") or line.strip() == "-":
            continue
        name, sep, value = line.partition(":")
        if not sep:
            continue
        if value.startswith(":"):
            value = base64.b64decode(value[1:].strip()).decode("utf-8")
        else:
            value = value.strip()
        record.setdefault(name.strip().lower(), []).append(value)

    return records


def hash_ssha(password: str, salt: bytes | None = None) -> str:
    """Return an OpenLDAP ``{SSHA}`` hash of *password* (SHA-1, 4-byte salt)."""
    salt = salt if salt is not None else os.urandom(4)
    digest = hashlib.sha1(password.encode("utf-8") + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode("ascii")


def check_ssha(password: str, hashed: str) -> bool:
    if not hashed.upper().startswith("{SSHA}"):
        return False
    try:
        raw = base64.b64decode(hashed[6:], validate=True)
    except ValueError:
        return False
    digest, salt = raw[:20], raw[20:]
    candidate = hashlib.sha1(password.encode("utf-8") + salt).digest()
    return hmac.compare_digest(candidate, digest)


# A hash that never matches, checked for unknown users so that they take
# as long as known ones.
_DUMMY_HASH = hash_ssha(os.urandom(16).hex())


class LdifDirectory:
    """A directory held in memory, read once from LDIF files."""

    def __init__(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        self.people: dict[str, dict[str, list[str]]] = {}
        self.groups: dict[str, set[str]] = {}

        for path in paths:
            self._load(Path(path).read_text(encoding="utf-8"))

    def _load(self, text: str) -> None:
        for record in parse_ldif(text):
            classes = {value.lower() for value in record.get("objectclass", [])}
            dn = record.get("dn", [""])[0]

            if "uid" in record and ("inetorgperson" in classes or "person" in classes):
                # Keyed in lower case, because LDAP matches uid ignoring case.
                self.people[record["uid"][0].casefold()] = record
            elif "posixgroup" in classes or "memberuid" in record:
                name = record.get("cn", [dn.split(",")[0].partition("=")[2]])[0]
                self.groups.setdefault(name, set()).update(record.get("memberuid", []))

    def _person(self, entry: dict[str, list[str]]) -> Person:
        uid = entry["uid"][0]
        groups = frozenset(
            name for name, members in self.groups.items() if uid in members
        )
        return Person(uid=uid, display_name=entry.get("cn", [uid])[0], groups=groups)

    def authenticate(self, username: str, password: str) -> Person:
        if not password:
            raise InvalidCredentials("empty password")

        entry = self.people.get(username.strip(" ").casefold())
        hashed = entry.get("userpassword", [""])[0] if entry else _DUMMY_HASH
        if not check_ssha(password, hashed) or entry is None:
            raise InvalidCredentials("unknown user or wrong password")

        return self._person(entry)

    def lookup(self, uid: str) -> Person | None:
        entry = self.people.get(uid.casefold())
        return self._person(entry) if entry else None

    def change_password(self, uid: str, old_password: str, new_password: str) -> None:
        raise PasswordChangeRejected(
            "The built-in demo directory is read-only; passwords can be changed "
            "only when the site uses an LDAP server."
        )

"""The directory interface: who a person is and which groups they are in.

The site keeps no users of its own. A directory backend checks a user
name and password and returns a :class:`Person`; the login pages and the
permission checks use only this interface, so the read-only LDIF
directory and the LDAP one are interchangeable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class DirectoryError(Exception):
    """Base of the errors a directory backend raises."""


class InvalidCredentials(DirectoryError):
    """The user name or password is wrong, or the user may not log in.

    The message is the same for every cause, so that a caller cannot tell
    an unknown user from a wrong password.
    """

    def __init__(self, reason: str = "invalid credentials") -> None:
        # *reason* is for the server log only, never for the page.
        super().__init__(reason)
        self.reason = reason


class DirectoryUnavailable(DirectoryError):
    """No directory server responded within the timeout."""


class PasswordChangeRejected(DirectoryError):
    """The directory rejected a new password. The message gives the reason."""


@dataclass(frozen=True)
class Person:
    """A directory entry, reduced to what the site uses."""

    uid: str
    display_name: str
    groups: frozenset[str] = field(default_factory=frozenset)


class Directory(Protocol):
    def authenticate(self, username: str, password: str) -> Person:
        """Check *password* and return the canonical entry.

        :raises InvalidCredentials: unknown user or wrong password.
        :raises DirectoryUnavailable: the directory did not respond in time.
        """

    def lookup(self, uid: str) -> Person | None:
        """Return the current entry and groups for *uid*, or ``None``."""

    def change_password(self, uid: str, old_password: str, new_password: str) -> None:
        """Change the password of *uid*, proving the old one first."""

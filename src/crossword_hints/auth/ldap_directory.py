"""The directory backend for a real LDAP server, through python-ldap.

A login binds as the user. The person's canonical ``uid`` and display name
then come from the directory entry, not from what was typed, and groups are
the ``posixGroup`` entries whose ``memberUid`` is that ``uid``. Without
``LDAP_BIND_DN_TEMPLATE``, one search as the service account (or anonymous)
finds the entry with its names, and the group search goes out with it, so
a login waits for two replies, or three with a service account. The entry
is read again bound as the user only when its names were hidden from the
search or its ``uid`` is spelled differently from what was typed. Every value
placed into a filter is escaped by RFC 4515 and every value placed into a
DN by RFC 4514, and user names with control characters never reach the
server.

The URIs in ``LDAP_URL`` are tried in order: a server that does not respond
within the timeouts is skipped, and when none responds the caller gets
:class:`~.directory.DirectoryUnavailable`. Referrals are never followed.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import ldap
import ldap.dn
import ldap.filter
from ldap.controls import DecodeControlTuples
from ldap.controls.ppolicy import PasswordPolicyControl

from .directory import (
    DirectoryUnavailable,
    InvalidCredentials,
    PasswordChangeRejected,
    Person,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Errors that mean the server is down or silent, so the next URI is tried.
SERVER_ERRORS = (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.CONNECT_ERROR)

#: Maximum length of a user name sent to the server, the same as the login form allows.
MAX_USERNAME = 256

#: Plain words for the password policy errors of the ppolicy overlay
#: (draft-behera-ldap-password-policy, section 6.2), by error number.
POLICY_MESSAGES = {
    0: "Your password has expired; ask the directory's administrators to reset it.",
    1: "Your account is locked; ask the directory's administrators to unlock it.",
    2: "Your password was reset and must be changed by the administrators' tools.",
    3: "The directory does not let you change your own password.",
    4: "The directory requires your current password.",
    5: "The new password is too simple for the directory's password policy.",
    6: "The new password is too short for the directory's password policy.",
    7: "The password was changed too recently to be changed again yet.",
    8: "The new password was used before; choose one you have not used.",
}

#: Attributes read from a person's entry.
PERSON_ATTRIBUTES = ["uid", "cn", "displayName"]


@dataclass(frozen=True)
class LdapSettings:
    """The ``LDAP_*`` settings, checked and with their defaults filled in."""

    urls: tuple[str, ...]
    people_base: str
    groups_base: str
    bind_dn_template: str = ""
    user_filter: str = "(&(objectClass=inetOrgPerson)(uid={uid}))"
    service_dn: str = ""
    service_password: str = ""
    start_tls: bool = False
    ca_file: str = ""
    tls_verify: bool = True
    connect_timeout: float = 3.0
    timeout: float = 5.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LdapSettings:
        """Build the settings from an app's config.

        :raises ValueError: a setting is missing or invalid; the message
            names it.
        """
        urls = tuple(str(config.get("LDAP_URL") or "").split())
        if not urls:
            raise ValueError("LDAP_URL is empty")

        base = str(config.get("LDAP_BASE_DN") or "")
        people = str(config.get("LDAP_PEOPLE_BASE") or "")
        groups = str(config.get("LDAP_GROUPS_BASE") or "")
        if not base and not (people and groups):
            raise ValueError(
                "LDAP_BASE_DN is empty; set it, or both LDAP_PEOPLE_BASE "
                "and LDAP_GROUPS_BASE"
            )
        for name, value in [
            ("LDAP_BASE_DN", base),
            ("LDAP_PEOPLE_BASE", people),
            ("LDAP_GROUPS_BASE", groups),
        ]:
            if value and not ldap.dn.is_dn(value):
                raise ValueError(f"{name} is not a valid DN: {value!r}")

        template = str(config.get("LDAP_BIND_DN_TEMPLATE") or "")
        if template and "{uid}" not in template:
            raise ValueError("LDAP_BIND_DN_TEMPLATE must contain {uid}")
        user_filter = str(config.get("LDAP_USER_FILTER") or cls.user_filter)
        if "{uid}" not in user_filter:
            raise ValueError("LDAP_USER_FILTER must contain {uid}")

        return cls(
            urls=urls,
            people_base=people or f"ou=People,{base}",
            groups_base=groups or f"ou=Groups,{base}",
            bind_dn_template=template,
            user_filter=user_filter,
            service_dn=str(config.get("LDAP_SERVICE_DN") or ""),
            service_password=str(config.get("LDAP_SERVICE_PASSWORD") or ""),
            start_tls=bool(config.get("LDAP_START_TLS")),
            ca_file=str(config.get("LDAP_CA_FILE") or ""),
            tls_verify=bool(config.get("LDAP_TLS_VERIFY", True)),
            connect_timeout=float(config.get("LDAP_CONNECT_TIMEOUT") or 3.0),
            timeout=float(config.get("LDAP_TIMEOUT") or 5.0),
        )

    def __repr__(self) -> str:
        # The service password must never reach a log through a repr.
        return f"LdapSettings(urls={self.urls!r}, people_base={self.people_base!r})"


def acceptable_username(username: str) -> bool:
    """Tell whether *username* may be sent to the server at all.

    Control characters (NUL, newline and the rest) cannot be part of a
    ``uid`` and python-ldap rejects NUL, so such names fail before any
    request.
    """
    if not username or len(username) > MAX_USERNAME:
        return False
    return not any(ord(char) < 32 or ord(char) == 127 for char in username)


class LdapDirectory:
    """People and groups in an LDAP server; see the module docstring."""

    def __init__(self, settings: LdapSettings) -> None:
        self.settings = settings
        if not settings.tls_verify:
            log.warning(
                "LDAP_TLS_VERIFY is off: the directory's certificate is not "
                "checked, so anyone on the network path can read passwords"
            )
        if settings.start_tls and any(
            url.startswith("ldaps:") for url in settings.urls
        ):
            log.warning("LDAP_START_TLS is on but LDAP_URL already uses ldaps://")

    # -- Connections ----------------------------------------------------------

    def _open(self, url: str) -> Any:
        settings = self.settings
        conn = ldap.initialize(url)
        conn.set_option(ldap.OPT_PROTOCOL_VERSION, ldap.VERSION3)
        conn.set_option(ldap.OPT_REFERRALS, 0)
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, settings.connect_timeout)
        conn.set_option(ldap.OPT_TIMEOUT, settings.timeout)
        conn.timeout = settings.timeout

        if settings.ca_file:
            conn.set_option(ldap.OPT_X_TLS_CACERTFILE, settings.ca_file)
        require = ldap.OPT_X_TLS_DEMAND if settings.tls_verify else ldap.OPT_X_TLS_NEVER
        conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, require)
        # The TLS options above take effect only in a new TLS context, and
        # this must be the last TLS option set.
        conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)

        if settings.start_tls and not url.startswith("ldaps:"):
            conn.start_tls_s()
        return conn

    def _on_any_server(self, operation: Callable[[Any], T]) -> T:
        """Run *operation* with a connection to the first server that responds.

        :raises DirectoryUnavailable: no server responded, or none passed the
            certificate check.
        """
        failures = []

        for url in self.settings.urls:
            conn = None
            try:
                conn = self._open(url)
                return operation(conn)
            except SERVER_ERRORS as exc:
                reason = describe(exc)
                log.warning("LDAP server %s did not respond: %s", url, reason)
                failures.append(f"{url}: {reason}")
            finally:
                if conn is not None:
                    unbind_quietly(conn)

        raise DirectoryUnavailable("; ".join(failures))

    @contextmanager
    def _translated_errors(self, action: str) -> Iterator[None]:
        # Any other LDAP error is a fault of the directory or its settings,
        # never the user's; the login page shows it as "unavailable".
        try:
            yield
        except (DirectoryUnavailable, InvalidCredentials, PasswordChangeRejected):
            raise
        except ldap.LDAPError as exc:
            log.error("LDAP error while %s: %s", action, describe(exc))
            raise DirectoryUnavailable(describe(exc)) from exc

    def _bind_service(self, conn: Any) -> None:
        # A new connection is anonymous until its first bind, so without a
        # service account there is nothing to send.
        if self.settings.service_dn:
            conn.simple_bind_s(self.settings.service_dn, self.settings.service_password)

    # -- Finding people -------------------------------------------------------

    def _user_filter(self, username: str) -> str:
        escaped = ldap.filter.escape_filter_chars(username)
        return self.settings.user_filter.replace("{uid}", escaped)

    def _template_dn(self, username: str) -> str:
        escaped = ldap.dn.escape_dn_chars(username)
        return self.settings.bind_dn_template.replace("{uid}", escaped)

    def _find_dn(self, conn: Any, username: str) -> str | None:
        """Search for *username* and return its DN, or ``None``.

        More than one match is a misconfigured filter or a duplicated
        ``uid``; it is logged and treated as no match.
        """
        try:
            results = conn.search_ext_s(
                self.settings.people_base,
                ldap.SCOPE_SUBTREE,
                self._user_filter(username),
                attrlist=["1.1"],
                sizelimit=2,
            )
        except ldap.SIZELIMIT_EXCEEDED:
            # More than two matches: as ambiguous as exactly two.
            results = None

        entries = [dn for dn, _attrs in results or [] if dn]
        if results is None or len(entries) > 1:
            log.error(
                "More than one directory entry matches user name %r under %s; "
                "refusing the login",
                username[:64],
                self.settings.people_base,
            )
            return None
        return entries[0] if entries else None

    def _read_person(
        self, conn: Any, dn: str, typed: str | None = None
    ) -> Person | None:
        """Read the entry at *dn* and its groups; ``None`` if it is gone.

        The entry must still match ``LDAP_USER_FILTER``; the filter is
        checked with the entry's own ``uid``, so a value the user typed
        never reaches it.
        """
        try:
            results = conn.search_s(
                dn, ldap.SCOPE_BASE, "(objectClass=*)", PERSON_ATTRIBUTES
            )
        except ldap.NO_SUCH_OBJECT:
            return None

        entries = [(entry_dn, attrs) for entry_dn, attrs in results if entry_dn]
        if not entries:
            return None
        attrs = entries[0][1]

        uids = [value.decode("utf-8") for value in attrs.get("uid", [])]
        if not uids:
            return None
        uid = canonical_uid(uids, typed)

        if not conn.search_s(dn, ldap.SCOPE_BASE, self._user_filter(uid), ["1.1"]):
            return None

        return Person(
            uid=uid,
            display_name=display_name(attrs, uid),
            groups=self._groups(conn, uid),
        )

    def _groups(self, conn: Any, uid: str) -> frozenset[str]:
        return self._receive_groups(conn, self._send_group_search(conn, uid))

    def _send_group_search(self, conn: Any, uid: str) -> int:
        escaped = ldap.filter.escape_filter_chars(uid)
        group_filter = f"(&(objectClass=posixGroup)(memberUid={escaped}))"
        return conn.search_ext(
            self.settings.groups_base, ldap.SCOPE_SUBTREE, group_filter, ["cn"]
        )

    def _receive_groups(self, conn: Any, msgid: int) -> frozenset[str]:
        _type, results, _msgid, _controls = conn.result3(msgid)
        return frozenset(
            attrs["cn"][0].decode("utf-8")
            for dn, attrs in results
            if dn and attrs.get("cn")
        )

    def _search_person(
        self, conn: Any, uid: str
    ) -> tuple[tuple[str, dict[str, list[bytes]]] | None, frozenset[str]]:
        """Find the entry that ``LDAP_USER_FILTER`` matches for *uid*, with
        the groups whose ``memberUid`` is *uid*, in one round trip.

        Returns the entry's DN and attributes (``None`` when nothing
        matches, or more than one entry does) and the group names. With
        ``LDAP_BIND_DN_TEMPLATE`` only the template's DN is searched.
        """
        template = bool(self.settings.bind_dn_template)
        if template:
            base, scope = self._template_dn(uid), ldap.SCOPE_BASE
        else:
            base, scope = self.settings.people_base, ldap.SCOPE_SUBTREE

        person_msgid = conn.search_ext(
            base,
            scope,
            self._user_filter(uid),
            attrlist=PERSON_ATTRIBUTES,
            sizelimit=2,
        )
        group_msgid = self._send_group_search(conn, uid)

        # Both replies are read before the caller sends anything else,
        # because a bind must not start while another operation is still
        # outstanding (RFC 4511, section 4.2.1).
        try:
            _type, results, _msgid, _controls = conn.result3(person_msgid)
        except ldap.SIZELIMIT_EXCEEDED:
            # More than two matches: as ambiguous as exactly two.
            results = None
        except ldap.NO_SUCH_OBJECT:
            # A missing template DN means an unknown user, but a missing
            # LDAP_PEOPLE_BASE is a fault of the settings.
            if not template:
                raise
            results = []
        groups = self._receive_groups(conn, group_msgid)

        entries = [(dn, attrs) for dn, attrs in results or [] if dn]
        if results is None or len(entries) > 1:
            log.error(
                "More than one directory entry matches user name %r under %s; "
                "refusing the login",
                uid[:64],
                base,
            )
            return None, groups
        return (entries[0] if entries else None), groups

    def _confirm_person(
        self,
        conn: Any,
        entry: tuple[str, dict[str, list[bytes]]] | None,
        typed: str,
        groups: frozenset[str],
    ) -> Person | None:
        """Build the person from the entry and groups that :meth:`_search_person`
        found under the name as typed. Returns ``None`` when there is no entry
        or it fails the check of ``LDAP_USER_FILTER``.

        When the entry's own ``uid`` is spelled differently, the filter is
        checked and the groups are read again under that spelling, as
        :meth:`_read_person` does. When the entry came back without its
        ``uid``, because access rules hide it from the account that searched,
        the entry is read again on *conn* by :meth:`_read_person`.
        """
        if entry is None:
            return None
        dn, attrs = entry

        uids = [value.decode("utf-8") for value in attrs.get("uid", [])]
        if not uids:
            return self._read_person(conn, dn, typed=typed)
        uid = canonical_uid(uids, typed)

        if uid != typed:
            check_msgid = conn.search_ext(
                dn, ldap.SCOPE_BASE, self._user_filter(uid), ["1.1"]
            )
            group_msgid = self._send_group_search(conn, uid)
            try:
                _type, matches, _msgid, _controls = conn.result3(check_msgid)
            except ldap.NO_SUCH_OBJECT:
                matches = []
            groups = self._receive_groups(conn, group_msgid)
            if not matches:
                return None

        return Person(uid=uid, display_name=display_name(attrs, uid), groups=groups)

    def _dummy_bind(self, conn: Any, password: str) -> None:
        """Bind with *password* to a DN that does not exist.

        Unknown users then cost the server and the caller the same work as a
        wrong password, so timing does not reveal who exists.
        """
        dn = f"uid=no-such-user-{secrets.token_hex(8)},{self.settings.people_base}"
        try:
            conn.simple_bind_s(dn, password)
        except ldap.INVALID_CREDENTIALS:
            pass

    # -- The directory interface ---------------------------------------------

    def authenticate(self, username: str, password: str) -> Person:
        if not password:
            # A simple bind with an empty password is an unauthenticated
            # bind, which servers may accept; never send one.
            raise InvalidCredentials("empty password")
        if not acceptable_username(username):
            raise InvalidCredentials("user name with control characters or too long")

        def attempt(conn: Any) -> Person:
            if self.settings.bind_dn_template:
                dn = self._template_dn(username)
                self._bind_user(conn, dn, password)
                entry, groups = self._search_person(conn, username)
                if entry is None:
                    # The entry is gone, or matches the filter only under its
                    # own spelling of the uid, so the full check decides.
                    person = self._read_person(conn, dn, typed=username)
                else:
                    person = self._confirm_person(conn, entry, username, groups)
            else:
                self._bind_service(conn)
                # The groups come in the same round trip as the entry, for
                # known and unknown names alike, and count only after the
                # bind below succeeds.
                entry, groups = self._search_person(conn, username)
                if entry is None:
                    self._dummy_bind(conn, password)
                    raise InvalidCredentials("unknown user")
                self._bind_user(conn, entry[0], password)
                person = self._confirm_person(conn, entry, username, groups)

            if person is None:
                raise InvalidCredentials("entry does not match LDAP_USER_FILTER")
            return person

        with self._translated_errors("logging in"):
            return self._on_any_server(attempt)

    def _bind_user(self, conn: Any, dn: str, password: str) -> None:
        try:
            conn.simple_bind_s(dn, password)
        except ldap.INVALID_CREDENTIALS:
            raise InvalidCredentials("unknown user or wrong password") from None
        except ldap.INVALID_DN_SYNTAX:
            raise InvalidCredentials("user name is not a valid DN value") from None

    def _user_dn(self, conn: Any, username: str) -> str | None:
        """Return the DN to bind as, searching when there is no template."""
        if self.settings.bind_dn_template:
            return self._template_dn(username)

        self._bind_service(conn)
        return self._find_dn(conn, username)

    def lookup(self, uid: str) -> Person | None:
        """Read *uid*'s entry and groups with the service account or anonymously."""
        if not acceptable_username(uid):
            return None

        def attempt(conn: Any) -> Person | None:
            self._bind_service(conn)
            entry, groups = self._search_person(conn, uid)
            if entry is None:
                return None
            _dn, attrs = entry

            uids = [value.decode("utf-8") for value in attrs.get("uid", [])]
            # A different canonical uid means the entry was renamed; the old
            # session must not carry over to it.
            if not uids or canonical_uid(uids, uid) != uid:
                return None
            return Person(uid=uid, display_name=display_name(attrs, uid), groups=groups)

        with self._translated_errors("refreshing groups"):
            return self._on_any_server(attempt)

    def change_password(self, uid: str, old_password: str, new_password: str) -> None:
        """Change *uid*'s password with the Password Modify operation (RFC 3062).

        The operation runs bound as the user, so the directory's access
        rules and password policy apply as for any self-service change.
        """
        if not old_password:
            raise InvalidCredentials("empty password")
        if not new_password:
            raise PasswordChangeRejected("The new password must not be empty.")

        def attempt(conn: Any) -> None:
            dn = self._user_dn(conn, uid)
            if dn is None:
                raise InvalidCredentials("unknown user")
            try:
                conn.simple_bind_s(dn, old_password)
            except ldap.INVALID_CREDENTIALS:
                raise InvalidCredentials("wrong current password") from None

            try:
                msgid = conn.passwd(
                    dn,
                    old_password,
                    new_password,
                    serverctrls=[PasswordPolicyControl()],
                )
                conn.result3(msgid)
            except (
                ldap.CONSTRAINT_VIOLATION,
                ldap.UNWILLING_TO_PERFORM,
                ldap.INSUFFICIENT_ACCESS,
                ldap.INVALID_CREDENTIALS,
            ) as exc:
                raise PasswordChangeRejected(policy_message(exc)) from None

        with self._translated_errors("changing a password"):
            self._on_any_server(attempt)


def canonical_uid(uids: list[str], typed: str | None) -> str:
    """Pick the entry's own spelling of the ``uid`` the user logged in with.

    ``uid`` matching is case-insensitive and may have several values, so
    the value equal to what was typed (ignoring case and outer spaces) wins
    and the first value is the fallback.
    """
    if typed is not None:
        expected = typed.strip().casefold()
        for value in uids:
            if value.casefold() == expected:
                return value
    return uids[0]


def display_name(attrs: Mapping[str, list[bytes]], uid: str) -> str:
    """Return the entry's ``displayName``, else its ``cn``, else *uid*."""
    names = attrs.get("displayName") or attrs.get("cn") or [uid.encode("utf-8")]
    return names[0].decode("utf-8")


def policy_message(exc: ldap.LDAPError) -> str:
    """Return plain words for a rejected password change."""
    details = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}

    for control in DecodeControlTuples(details.get("ctrls") or []):
        if isinstance(control, PasswordPolicyControl) and control.error is not None:
            if control.error in POLICY_MESSAGES:
                return POLICY_MESSAGES[control.error]

    if isinstance(exc, ldap.INSUFFICIENT_ACCESS):
        return POLICY_MESSAGES[3]
    info = details.get("info")
    if isinstance(info, bytes):
        info = info.decode("utf-8", "replace")
    if info:
        return f"The directory rejected the new password: {info}."
    return "The directory rejected the new password."


def describe(exc: ldap.LDAPError) -> str:
    """Return an LDAP error as one line: its description and server info."""
    details = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    parts = [str(details.get("desc") or type(exc).__name__)]
    if details.get("info"):
        info = details["info"]
        parts.append(
            info.decode("utf-8", "replace") if isinstance(info, bytes) else info
        )
    return ": ".join(parts)


def unbind_quietly(conn: Any) -> None:
    try:
        conn.unbind_s()
    except ldap.LDAPError:
        pass

"""``crossword-hints directory ...``: tools for the people who run the directory."""

from __future__ import annotations

import io
import re

import click
import ldap.dn
from flask import current_app
from flask.cli import with_appcontext
from ldap.dn import escape_dn_chars
from ldif import LDIFWriter

from .ldif import hash_ssha

#: POSIX-style user names: what ``useradd`` accepts by default on Debian.
UID_PATTERN = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")

#: Object classes for the suffix entry, by the attribute of its first RDN.
SUFFIX_CLASSES = {
    "dc": ["top", "dcObject", "organization"],
    "o": ["top", "organization"],
    "ou": ["top", "organizationalUnit"],
}

#: Group and user numbers of the generated entries.
ADMIN_GID, EDITOR_GID, ADMIN_UID_NUMBER = 10000, 10001, 10000


@click.group("directory")
def directory_command() -> None:
    """Tools for the LDAP directory the site logs in against."""


@directory_command.command("hash-password")
def hash_password_command() -> None:
    """Print an {SSHA} hash of a password, for userPassword in LDIF.

    The password is read without echo, twice. OpenLDAP accepts the hash as
    it accepts one from ``slappasswd -h {SSHA}``.
    """
    password = click.prompt(
        "Password", hide_input=True, confirmation_prompt=True, err=True
    )
    if not password:
        raise click.ClickException("the password must not be empty")
    # Bytes that are not UTF-8 reach us as lone surrogates, which no
    # directory could match at login.
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise click.ClickException(
            "the password is not UTF-8 text; check the terminal's encoding"
        ) from None
    click.echo(hash_ssha(password))


def _entry(writer: LDIFWriter, dn: str, attrs: dict[str, list[str]]) -> None:
    writer.unparse(
        dn,
        {
            name: [value.encode("utf-8") for value in values]
            for name, values in attrs.items()
        },
    )


@directory_command.command("ldif")
@click.option(
    "--suffix",
    required=True,
    help="Base DN of the new directory, such as dc=example,dc=org.",
)
@click.option(
    "--admin", "admin_uid", required=True, help="User name of the first administrator."
)
@click.option(
    "--admin-name", help="Full name of the administrator (default: the user name)."
)
@click.option(
    "--password-hash",
    help="The administrator's userPassword, such as "
    "the output of hash-password (default: asks for a password).",
)
@with_appcontext
def ldif_command(
    suffix: str, admin_uid: str, admin_name: str | None, password_hash: str | None
) -> None:
    """Write the LDIF of a new directory to standard output.

    It contains the suffix entry, ou=People, ou=Groups, the editor and
    admin groups named by EDITOR_GROUP and ADMIN_GROUP, and a first
    administrator in both groups. Load it with ldapadd as the root DN.
    """
    try:
        suffix_rdns = ldap.dn.str2dn(suffix)
    except ldap.DECODING_ERROR:
        raise click.BadParameter(
            f"{suffix!r} is not a DN", param_hint="--suffix"
        ) from None
    if not suffix_rdns or len(suffix_rdns[0]) != 1:
        raise click.BadParameter(
            "the first RDN must have one attribute", param_hint="--suffix"
        )

    kind, top_value, _flags = suffix_rdns[0][0]
    if kind.lower() not in SUFFIX_CLASSES:
        raise click.BadParameter(
            f"the first RDN must be dc=, o= or ou=, not {kind}=", param_hint="--suffix"
        )
    if not UID_PATTERN.match(admin_uid):
        raise click.BadParameter(
            "use lower-case letters, digits, '.', '_' or '-', at most 32",
            param_hint="--admin",
        )
    if password_hash is None:
        password = click.prompt(
            f"Password for {admin_uid}",
            hide_input=True,
            confirmation_prompt=True,
            err=True,
        )
        password_hash = hash_ssha(password)

    suffix = ldap.dn.dn2str(suffix_rdns)
    full_name = admin_name or admin_uid
    config = current_app.config
    out = io.StringIO()
    out.write(
        f"# A new directory for Crossword Hints under {suffix}.\n"
        "# Load it with: ldapadd -x -D <root DN> -W -f <this file>\n\n"
    )
    writer = LDIFWriter(out)

    top: dict[str, list[str]] = {
        "objectClass": SUFFIX_CLASSES[kind.lower()],
        kind: [top_value],
    }
    if kind.lower() == "dc":
        top["o"] = [top_value]
    _entry(writer, suffix, top)

    for unit in ("People", "Groups"):
        _entry(
            writer,
            f"ou={unit},{suffix}",
            {"objectClass": ["top", "organizationalUnit"], "ou": [unit]},
        )

    for group, gid in (
        (config["ADMIN_GROUP"], ADMIN_GID),
        (config["EDITOR_GROUP"], EDITOR_GID),
    ):
        _entry(
            writer,
            f"cn={escape_dn_chars(group)},ou=Groups,{suffix}",
            {
                "objectClass": ["top", "posixGroup"],
                "cn": [group],
                "gidNumber": [str(gid)],
                "memberUid": [admin_uid],
            },
        )

    _entry(
        writer,
        f"uid={admin_uid},ou=People,{suffix}",
        {
            "objectClass": ["top", "inetOrgPerson", "posixAccount"],
            "uid": [admin_uid],
            "cn": [full_name],
            "sn": [full_name.split()[-1] if full_name.split() else admin_uid],
            "userPassword": [password_hash],
            "uidNumber": [str(ADMIN_UID_NUMBER)],
            "gidNumber": [str(ADMIN_GID)],
            "homeDirectory": [f"/home/{admin_uid}"],
        },
    )
    click.echo(out.getvalue(), nl=False)

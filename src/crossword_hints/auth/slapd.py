"""A private OpenLDAP server for development and tests.

:class:`Slapd` writes a ``slapd.conf`` into a fresh temporary folder, starts
``/usr/sbin/slapd`` on ``ldap://127.0.0.1:<free port>/`` (and, with TLS, on
an ``ldaps://`` port too), waits until it responds and loads LDIF through
``ldapmodify -a``, so that ``changetype: modify`` records work. It listens on
127.0.0.1 only. ``scripts/dev-slapd`` and the test fixtures both use it.

The directory has the schemas core, cosine, nis and inetorgperson and the
root DN ``cn=Manager,<suffix>`` with a random password. Its default access
rules let people change their own password, and the *access* argument
replaces them. The ppolicy overlay with a small
password policy makes password changes fail the way a real directory's do.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

import ldap

from .ldif import DEMO_FILES, hash_ssha, parse_ldif

log = logging.getLogger(__name__)

SLAPD = os.environ.get("SLAPD", "/usr/sbin/slapd")
SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")
SCHEMAS = ("core", "cosine", "nis", "inetorgperson")

#: Access rules of a new server. People may change their own password, and
#: no one may read a password. Everything else is readable, as in Debian's
#: default directory.
DEFAULT_ACCESS = (
    "access to attrs=userPassword by self write by anonymous auth by * none",
    "access to * by * read",
)

#: Name of the file that marks a folder as made by this module, so that
#: ``stop`` never deletes or signals anything else.
MARKER = "crossword-hints-slapd"

#: Seconds to wait for slapd to respond after starting, and to exit.
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0

#: Rules for the password policy entry ``cn=password-policy,<suffix>``.
PASSWORD_POLICY = {
    "pwdMinLength": "8",
    "pwdCheckQuality": "2",
    "pwdInHistory": "3",
}


class SlapdError(RuntimeError):
    """slapd could not be started, loaded or stopped; the message gives the reason."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on just now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def first_dn(path: str | os.PathLike[str]) -> str:
    """Return the DN of the first record in an LDIF file."""
    for record in parse_ldif(Path(path).read_text(encoding="utf-8")):
        if "dn" in record:
            return record["dn"][0]
    raise SlapdError(f"{path} contains no LDIF record with a dn")


def make_certificates(folder: Path, name: str = "test") -> dict[str, Path]:
    """Create a throwaway CA and a server certificate for 127.0.0.1.

    Returns the paths ``ca``, ``cert`` and ``key``. The files are made with
    the ``openssl`` command and are valid for two days.
    """
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = folder / f"{name}-ca.key", folder / f"{name}-ca.pem"
    key, csr, cert = (folder / f"{name}-server.{ext}" for ext in ("key", "csr", "pem"))
    extensions = folder / f"{name}-server.ext"
    extensions.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "extendedKeyUsage=serverAuth\n"
        "basicConstraints=CA:FALSE\n",
        encoding="ascii",
    )
    ec_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    commands = [
        [
            "openssl",
            "req",
            "-x509",
            *ec_key,
            "-keyout",
            ca_key,
            "-out",
            ca_cert,
            "-days",
            "2",
            "-subj",
            f"/CN=Crossword Hints {name} CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
        [
            "openssl",
            "req",
            *ec_key,
            "-keyout",
            key,
            "-out",
            csr,
            "-subj",
            "/CN=127.0.0.1",
        ],
        [
            "openssl",
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            ca_cert,
            "-CAkey",
            ca_key,
            "-CAcreateserial",
            "-out",
            cert,
            "-days",
            "2",
            "-extfile",
            extensions,
        ],
    ]
    for command in commands:
        result = subprocess.run(
            [str(part) for part in command], capture_output=True, text=True
        )
        if result.returncode != 0:
            raise SlapdError(f"openssl failed: {result.stderr.strip()}")

    return {"ca": ca_cert, "cert": cert, "key": key}


class Slapd:
    """A slapd process of our own, with its configuration and data in *workdir*.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    With *detached*, slapd runs in a session of its own and outlives this
    process; otherwise it shares the terminal's process group, so Ctrl-C
    stops it together with the tests.
    """

    def __init__(
        self,
        suffix: str,
        ldif_files: Iterable[str | os.PathLike[str]] = (),
        *,
        tls: bool = False,
        password_policy: bool = True,
        root_password: str | None = None,
        access: Iterable[str] = DEFAULT_ACCESS,
        workdir: str | os.PathLike[str] | None = None,
        detached: bool = False,
    ) -> None:
        self.suffix = suffix
        self.detached = detached
        self.ldif_files = [Path(path) for path in ldif_files]
        self.tls = tls
        self.password_policy = password_policy
        self.access = list(access)
        self.root_dn = f"cn=Manager,{suffix}"
        self.root_password = root_password or secrets.token_urlsafe(16)
        self.workdir = Path(
            workdir or tempfile.mkdtemp(prefix="crossword-hints-slapd-")
        )
        self.port = 0
        self.tls_port = 0
        self.certificates: dict[str, Path] = {}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}/"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}/"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise SlapdError("slapd is not running")
        return self.process.pid

    @property
    def ca_file(self) -> Path:
        return self.certificates["ca"]

    def __enter__(self) -> Slapd:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _write_config(self) -> Path:
        data = self.workdir / "data"
        data.mkdir(parents=True, exist_ok=True)
        (self.workdir / MARKER).write_text("made by crossword_hints.auth.slapd\n")

        lines = [f"include {SCHEMA_DIR / name}.schema" for name in SCHEMAS]
        lines += [
            f"modulepath {MODULE_DIR}",
            "moduleload back_mdb",
            f"pidfile {self.workdir / 'slapd.pid'}",
            f"argsfile {self.workdir / 'slapd.args'}",
        ]
        if self.password_policy:
            lines.append("moduleload ppolicy")
        if self.tls:
            self.certificates = make_certificates(self.workdir / "tls")
            lines += [
                f"TLSCACertificateFile {self.certificates['ca']}",
                f"TLSCertificateFile {self.certificates['cert']}",
                f"TLSCertificateKeyFile {self.certificates['key']}",
            ]

        lines += [
            "database mdb",
            f'suffix "{self.suffix}"',
            f'rootdn "{self.root_dn}"',
            f"rootpw {hash_ssha(self.root_password)}",
            f"directory {data}",
            "index objectClass,uid,memberUid eq",
        ]
        if self.password_policy:
            lines += [
                "overlay ppolicy",
                f'ppolicy_default "cn=password-policy,{self.suffix}"',
            ]
        lines += self.access

        config = self.workdir / "slapd.conf"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return config

    def start(self) -> Slapd:
        """Start slapd, wait until it responds and load the LDIF files.

        On failure nothing is left behind: slapd is stopped and its folder
        deleted before :class:`SlapdError` is raised.
        """
        try:
            return self._start()
        except (SlapdError, OSError):
            self.stop()
            raise

    def _start(self) -> Slapd:
        config = self._write_config()

        for _attempt in range(3):
            # The port is free when chosen but may be taken before slapd
            # binds it; then slapd exits at once and another port is tried.
            self.port = free_port()
            listeners = [self.url]
            if self.tls:
                self.tls_port = free_port()
                listeners.append(self.ldaps_url)

            log_file = open(self.workdir / "slapd.log", "wb")  # noqa: SIM115
            self.process = subprocess.Popen(
                [SLAPD, "-f", str(config), "-h", " ".join(listeners), "-d", "0"],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=self.detached,
            )
            log_file.close()
            if self._wait_until_responding():
                break
        else:
            raise SlapdError(f"slapd did not start: {self.log_text()}")

        log.info("Started slapd %s at %s (pid %d)", self.suffix, self.url, self.pid)
        for path in self.ldif_files:
            self.load_file(path)
        if self.password_policy:
            self.load_text(self._policy_ldif())
        return self

    def _wait_until_responding(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT

        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            conn = ldap.initialize(self.url)
            conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 1.0)
            conn.set_option(ldap.OPT_TIMEOUT, 1.0)
            try:
                conn.whoami_s()
                return True
            except ldap.LDAPError:
                time.sleep(0.05)
            finally:
                conn.unbind_s()

        self.process.kill()
        self.process.wait()
        return False

    def _policy_ldif(self) -> str:
        lines = [
            f"dn: cn=password-policy,{self.suffix}",
            "objectClass: organizationalRole",
            "objectClass: pwdPolicy",
            "cn: password-policy",
            "pwdAttribute: userPassword",
        ]
        lines += [f"{name}: {value}" for name, value in PASSWORD_POLICY.items()]
        return "\n".join(lines) + "\n"

    def log_text(self) -> str:
        try:
            return (self.workdir / "slapd.log").read_text(errors="replace").strip()
        except FileNotFoundError:
            return "(no log)"

    def load_file(self, path: str | os.PathLike[str]) -> None:
        """Apply an LDIF file as the root DN; records without changetype add."""
        self._ldapmodify(["-f", str(path)], None, str(path))

    def load_text(self, text: str) -> None:
        """Apply LDIF *text* as the root DN, as :meth:`load_file` does."""
        self._ldapmodify([], text, "LDIF text")

    def _ldapmodify(self, args: list[str], text: str | None, source: str) -> None:
        command = [
            "ldapmodify",
            "-a",
            "-x",
            "-H",
            self.url,
            "-D",
            self.root_dn,
            "-w",
            self.root_password,
            *args,
        ]
        result = subprocess.run(command, input=text, capture_output=True, text=True)
        if result.returncode != 0:
            raise SlapdError(f"ldapmodify of {source} failed: {result.stderr.strip()}")

    def stop(self) -> None:
        """Stop slapd and delete its folder."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            log.info("Stopped slapd at %s (pid %d)", self.url, self.process.pid)
            self.process = None
        shutil.rmtree(self.workdir, ignore_errors=True)


def process_alive(pid: int) -> bool:
    """Tell whether *pid* is a running process (a zombie counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    # The state letter follows the command name, which is in parentheses.
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def slapd_workdir(pid: int) -> Path:
    """Return the folder of the slapd with *pid*, if this module started it.

    :raises SlapdError: *pid* is not a slapd whose ``-f`` configuration lies
        in a folder marked as ours.
    """
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        raise SlapdError(f"no process has pid {pid}") from None

    arguments = [part.decode(errors="replace") for part in argv]
    if not arguments or Path(arguments[0]).name != "slapd" or "-f" not in arguments:
        raise SlapdError(f"process {pid} is not a slapd started by dev-slapd")

    workdir = Path(arguments[arguments.index("-f") + 1]).parent
    if not (workdir / MARKER).exists():
        raise SlapdError(f"process {pid} is a slapd that dev-slapd did not start")
    return workdir


def stop_pid(pid: int) -> Path:
    """Stop the slapd with *pid* that :func:`start_detached` started.

    Deletes its folder and returns that folder's path.
    """
    workdir = slapd_workdir(pid)
    os.kill(pid, signal.SIGTERM)

    deadline = time.monotonic() + STOP_TIMEOUT
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if process_alive(pid):
        os.kill(pid, signal.SIGKILL)

    shutil.rmtree(workdir, ignore_errors=True)
    return workdir


def main(argv: list[str] | None = None) -> int:
    """Run ``dev-slapd start [LDIF ...]`` or ``dev-slapd stop PID``."""
    parser = argparse.ArgumentParser(
        prog="dev-slapd",
        description="Start or stop a private slapd on 127.0.0.1 for development.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    start = commands.add_parser(
        "start", help="start slapd on a free port and load LDIF files"
    )
    start.add_argument(
        "ldif",
        nargs="*",
        type=Path,
        help="LDIF files to load in order (default: the demo directory)",
    )
    start.add_argument(
        "--suffix", help="the directory suffix (default: the first DN loaded)"
    )
    start.add_argument(
        "--tls",
        action="store_true",
        help="also listen on ldaps:// with a throwaway CA, and allow StartTLS",
    )

    stop = commands.add_parser("stop", help="stop a slapd that start printed")
    stop.add_argument("pid", type=int, help="the PID that start printed")

    args = parser.parse_args(argv)
    try:
        if args.command == "stop":
            workdir = stop_pid(args.pid)
            print(f"Stopped slapd {args.pid} and deleted {workdir}")
            return 0
        start_detached(args.ldif or DEMO_FILES, args.suffix, args.tls)
        return 0
    except (SlapdError, OSError) as exc:
        print(f"dev-slapd: {exc}", file=sys.stderr)
        return 1


def start_detached(ldif_files: list[Path], suffix: str | None, tls: bool) -> Slapd:
    """Start slapd, leave it running after this process exits, and print it."""
    server = Slapd(
        suffix or first_dn(ldif_files[0]), ldif_files, tls=tls, detached=True
    )
    server.start()

    print(f"slapd is running with pid {server.pid}; data in {server.workdir}")
    print(f"Root DN {server.root_dn}, password {server.root_password}")
    print("Point the site at it with:")
    print(f"  export CROSSWORD_HINTS_LDAP_URL={server.url}")
    print(f"  export CROSSWORD_HINTS_LDAP_BASE_DN={server.suffix}")
    if tls:
        print(
            f"  (or {server.ldaps_url} with CROSSWORD_HINTS_LDAP_CA_FILE="
            f"{server.ca_file})"
        )
    print(f"Stop it with: scripts/dev-slapd stop {server.pid}")
    return server


if __name__ == "__main__":
    sys.exit(main())

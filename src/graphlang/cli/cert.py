"""``graphlang cert``: a local development CA and a server certificate for HTTPS.

Some Graph SDKs (JavaScript, Go) refuse to send a token over plain http, so the emulator needs a
certificate its clients can trust. The CA is made once and kept (trust it once per machine); every run
issues a fresh server certificate from it for localhost, 127.0.0.1 and ::1, plus any ``--host``.
"""

from __future__ import annotations

import datetime
import getpass
import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import click
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from graphlang.cli.root import settings_of

DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")
CA_DAYS = 3650
# Apple platforms reject server certificates valid for longer than 825 days, even from a private CA.
SERVER_DAYS = 397


@dataclass(frozen=True)
class CertFiles:
    directory: Path

    @property
    def ca_cert(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca-key.pem"

    @property
    def server_cert(self) -> Path:
        return self.directory / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.directory / "server-key.pem"


def _write(path: Path, data: bytes, *, secret: bool = False) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file; keys are 0600."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    temporary.replace(path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "graphlang development"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def make_ca(files: CertFiles) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        user = "unknown"
    owner = f"{user}@{socket.gethostname()}"
    name = _name(f"graphlang development CA ({owner})")
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False),
                       critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(files.ca_key, _key_pem(key), secret=True)
    _write(files.ca_cert, cert.public_bytes(serialization.Encoding.PEM))
    return cert


def _load_ca(files: CertFiles) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise click.ClickException(f"{files.ca_key} is not the key graphlang made for its CA; remove the "
                                   "CA files or run with --new-ca")
    return cert, key


def _alternative_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def make_server_cert(files: CertFiles, hosts: list[str]) -> x509.Certificate:
    ca_cert, ca_key = _load_ca(files)
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(min(now + datetime.timedelta(days=SERVER_DAYS), ca_cert.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName([_alternative_name(host) for host in hosts]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, content_commitment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(files.server_key, _key_pem(key), secret=True)
    _write(files.server_cert, cert.public_bytes(serialization.Encoding.PEM))
    return cert


def trust_instructions(files: CertFiles) -> str:
    ca = files.ca_cert
    return f"""\
Serve HTTPS with:
  graphlang serve --tls-cert {files.server_cert} --tls-key {files.server_key}

Trust the CA once per machine (it signs only what 'graphlang cert' issues here):
  Debian/Ubuntu:  sudo cp {ca} /usr/local/share/ca-certificates/graphlang-dev-ca.crt && sudo update-ca-certificates
  macOS:          sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {ca}
  Windows:        certutil -user -addstore Root {ca}
  Python:         httpx.Client(verify=ssl.create_default_context(cafile="{ca}")), or
                  SSL_CERT_FILE={ca} (it then replaces the default CAs; to keep them, point it at
                  a bundle of both: cat "$(python -m certifi)" {ca} > bundle.pem)
  Node.js:        NODE_EXTRA_CA_CERTS={ca}"""


@click.command(help="Create a local development CA (once) and a server certificate for localhost, 127.0.0.1 "
                    "and ::1 signed by it, and print how to trust the CA.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the files go [<data-dir>/tls].")
@click.option("--host", "hosts", multiple=True,
              help="Another DNS name or IP address for the server certificate (repeatable).")
@click.option("--new-ca", is_flag=True, help="Replace the CA too (clients must trust the new one).")
@click.pass_context
def cert(ctx: click.Context, directory: Path | None, hosts: tuple[str, ...], new_ca: bool) -> None:
    files = CertFiles(directory or settings_of(ctx).data_dir / "tls")
    files.directory.mkdir(parents=True, exist_ok=True)
    made_ca = new_ca or not (files.ca_cert.exists() and files.ca_key.exists())
    if made_ca:
        make_ca(files)
    names = list(dict.fromkeys([*DEFAULT_HOSTS, *hosts]))
    make_server_cert(files, names)
    click.echo(f"CA certificate:     {files.ca_cert}{' (new)' if made_ca else ' (kept)'}")
    click.echo(f"Server certificate: {files.server_cert} (for {', '.join(names)})")
    click.echo(f"Server key:         {files.server_key}")
    click.echo()
    click.echo(trust_instructions(files))


def register(group: click.Group) -> None:
    group.add_command(cert)

"""``graphlang cert``: a development CA and a server certificate, and HTTPS with them."""

from __future__ import annotations

import ipaddress
import ssl
import stat
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from graphlang.cli import main
from tests.cli.serve_support import serving


def make_certs(directory: Path, *args: str) -> Result:
    result = CliRunner().invoke(main, ["--data-dir", str(directory.parent), "cert", "--dir", str(directory), *args])
    assert result.exit_code == 0, result.output
    return result


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_cert_makes_a_ca_and_a_server_certificate_it_signed_for_localhost(tmp_path: Path) -> None:
    tls = tmp_path / "tls"
    make_certs(tls, "--host", "graphlang.test")
    ca, server = load(tls / "ca.pem"), load(tls / "server.pem")
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    server.verify_directly_issued_by(ca)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == {"localhost", "graphlang.test"}
    assert set(names.get_values_for_type(x509.IPAddress)) == {ipaddress.ip_address("127.0.0.1"),
                                                              ipaddress.ip_address("::1")}
    usage = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert (server.not_valid_after_utc - server.not_valid_before_utc).days <= 825


def test_private_keys_are_readable_by_the_owner_only(tmp_path: Path) -> None:
    tls = tmp_path / "tls"
    make_certs(tls)
    for key in ("ca-key.pem", "server-key.pem"):
        assert stat.S_IMODE((tls / key).stat().st_mode) == 0o600


def test_cert_prints_how_to_trust_the_ca_on_each_platform(tmp_path: Path) -> None:
    tls = tmp_path / "tls"
    output = make_certs(tls).output
    ca = str(tls / "ca.pem")
    for expected in ("update-ca-certificates", "security add-trusted-cert", "certutil -user -addstore Root",
                     "SSL_CERT_FILE", "verify=ssl.create_default_context", "NODE_EXTRA_CA_CERTS",
                     f"--tls-cert {tls / 'server.pem'} --tls-key {tls / 'server-key.pem'}"):
        assert expected in output, expected
    assert ca in output


def test_a_second_run_keeps_the_ca_and_issues_a_new_server_certificate(tmp_path: Path) -> None:
    tls = tmp_path / "tls"
    make_certs(tls)
    ca, server = load(tls / "ca.pem"), load(tls / "server.pem")
    output = make_certs(tls).output
    assert "(kept)" in output
    assert load(tls / "ca.pem") == ca
    renewed = load(tls / "server.pem")
    assert renewed.serial_number != server.serial_number
    renewed.verify_directly_issued_by(ca)
    make_certs(tls, "--new-ca")
    assert load(tls / "ca.pem") != ca


def test_the_ca_goes_to_the_data_dir_by_default(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "data"), "cert"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "tls" / "ca.pem").exists()


@pytest.mark.parametrize("workers", ["1", "2"])  # with 2, the supervisor deals each connection to a worker
def test_serve_speaks_https_with_the_generated_certificate(tmp_path: Path, workers: str) -> None:
    tls = tmp_path / "tls"
    make_certs(tls)
    args = ["--tls-cert", str(tls / "server.pem"), "--tls-key", str(tls / "server-key.pem"), "--workers", workers]
    with serving(tmp_path / "server", args) as served:
        url = served.info["url"]
        assert url.startswith("https://127.0.0.1:")
        trusting = ssl.create_default_context(cafile=str(tls / "ca.pem"))
        response = httpx.get(f"{url}/_graphlang/health", verify=trusting, timeout=10)
        assert response.status_code == 200
        assert httpx.get(f"{url}/beta/me/profile/languages", verify=trusting, timeout=10).status_code == 401
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{url}/_graphlang/health", verify=ssl.create_default_context(), timeout=10)

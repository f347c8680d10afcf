"""azure-identity's ClientSecretCredential gets its token from graphlang's token endpoint over HTTPS, and the
official SDK uses that credential unchanged: no static token, no token from the CLI."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from azure.identity import ClientSecretCredential
from msgraph_beta import GraphServiceClient  # type: ignore[import-untyped]
from msgraph_beta.generated.models.language_proficiency import LanguageProficiency

from graphlang.app import create_app
from graphlang.config import DEFAULT_TENANT, Settings
from graphlang.server import bind
from tests.cli.cli_support import run_cli

pytestmark = pytest.mark.e2e

APP_ID = "a2a2a2a2-0000-4000-8000-00000000a2a2"
SECRET = "azure-identity-secret"
USER = "iris@contoso.com"


@dataclass
class HttpsServer:
    base_url: str
    ca: Path


@pytest.fixture
def https_graphlang(tmp_path: Path) -> Iterator[HttpsServer]:
    """graphlang over HTTPS with a development CA, an app and a user, served by uvicorn on a thread."""
    data = tmp_path / "data"
    for args in (("cert",), ("apps", "add", "--app-id", APP_ID, "--secret", SECRET, "--roles", "User.ReadWrite.All"),
                 ("users", "add", "--upn", USER)):
        result = run_cli(data, *args)
        assert result.exit_code == 0, result.output
    tls = data / "tls"
    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(create_app(Settings(data_dir=data)), lifespan="on", log_level="warning",
                            timeout_graceful_shutdown=1, ssl_certfile=str(tls / "server.pem"),
                            ssl_keyfile=str(tls / "server-key.pem"))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield HttpsServer(f"https://127.0.0.1:{sock.getsockname()[1]}", tls / "ca.pem")
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_sdk_with_azure_identity_client_secret_credential(https_graphlang: HttpsServer,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # Both azure-identity (requests) and the SDK (httpx) trust the development CA through these.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(https_graphlang.ca))
    monkeypatch.setenv("SSL_CERT_FILE", str(https_graphlang.ca))
    credential = ClientSecretCredential(DEFAULT_TENANT, APP_ID, SECRET, authority=https_graphlang.base_url,
                                        disable_instance_discovery=True)
    client = GraphServiceClient(credentials=credential, scopes=["https://graph.microsoft.com/.default"])
    client.request_adapter.base_url = f"{https_graphlang.base_url}/beta"
    languages = client.users.by_user_id(USER).profile.languages

    async def flow() -> list[str]:
        created = await languages.post(LanguageProficiency(tag="ga-IE"))
        assert created is not None and created.display_name == "Irish"
        listed = await languages.get()
        assert listed is not None and listed.value is not None
        return [item.tag or "" for item in listed.value]

    assert asyncio.run(flow()) == ["ga-IE"]
    assert credential.get_token("https://graph.microsoft.com/.default").token.count(".") == 2

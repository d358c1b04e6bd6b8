"""Fixtures of the reliability tests: a local certificate authority, and the figures report."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.reliability._support import FIGURES

trustme = pytest.importorskip("trustme")


@dataclass
class Pki:
    """A CA of the test run, a server certificate for 127.0.0.1 and a client certificate."""

    ca: Any  # trustme.CA
    ca_pem: Path
    server_context: ssl.SSLContext
    mutual_context: ssl.SSLContext  # also demands a client certificate signed by the CA
    client_cert: Path
    client_key: Path


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pki]:
    folder = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    ca_pem = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(server_context)
    mutual_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(mutual_context)
    ca.configure_trust(mutual_context)
    mutual_context.verify_mode = ssl.CERT_REQUIRED
    client = ca.issue_cert("client@cvat-sdk.test")
    client_cert, client_key = folder / "client.pem", folder / "client.key"
    client.cert_chain_pems[0].write_to_path(str(client_cert))
    client.private_key_pem.write_to_path(str(client_key))
    yield Pki(ca, ca_pem, server_context, mutual_context, client_cert, client_key)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("reliability figures")
        for name, value in sorted(FIGURES.items()):
            terminalreporter.write_line(f"{name}: {value:g}")

"""An S3 to test against: moto's server on a free local port for the session, wiped before each test that uses it.

tests/conftest.py imports the fixtures, so every test can ask for them; the server starts only when one does.
"""

import logging
from collections.abc import Iterator
from typing import Any

import boto3
import httpx2
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

S3_CONFIG = Config(
    signature_version="s3v4",
    s3={"addressing_style": "path"},
    request_checksum_calculation="when_required",
    response_checksum_validation="when_required",
)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """URL of a moto server in a thread of this process."""
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.CRITICAL)  # one log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
    werkzeug.setLevel(level)


@pytest.fixture
def s3_client(moto_endpoint: str) -> Any:
    """A boto3 S3 client with explicit test credentials (the environment is left alone) on an emptied server."""
    httpx2.post(f"{moto_endpoint}/moto-api/reset").raise_for_status()
    return boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=S3_CONFIG,
    )

"""A real S3 endpoint for tests: moto's server on a free local port (no boto3 mocking)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import attrs
import boto3
import pytest
from moto.server import ThreadedMotoServer

ACCESS_KEY_ID = "testing"
ACCESS_KEY_SECRET = "testing"


@attrs.frozen
class S3Endpoint:
    url: str
    photos_bucket: str
    audio_bucket: str


@pytest.fixture(scope="session")
def moto_s3_url() -> Iterator[str]:
    """One moto server per session, bound to 127.0.0.1 on a port the OS picks."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_endpoint(moto_s3_url: str) -> S3Endpoint:
    """Fresh, uniquely named photo and audio buckets on the session's server."""
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=moto_s3_url,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=ACCESS_KEY_SECRET,
        region_name="us-east-1",
    )
    suffix = uuid.uuid4().hex[:12]
    endpoint = S3Endpoint(
        url=moto_s3_url, photos_bucket=f"photos-{suffix}", audio_bucket=f"audio-{suffix}"
    )
    for bucket in (endpoint.photos_bucket, endpoint.audio_bucket):
        client.create_bucket(Bucket=bucket)
    return endpoint

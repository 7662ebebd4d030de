"""Shared by the job tests: a fixed time, configuration from env overrides, S3 storage on moto."""

from __future__ import annotations

import datetime as dt
import pathlib

import attrs

from duo.media.storage import S3Settings, S3Storage
from duo.services import Services
from tests.plugins import app as app_plugin
from tests.plugins.s3 import ACCESS_KEY_ID, ACCESS_KEY_SECRET, S3Endpoint

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def with_env(svc: Services, tmp_path: pathlib.Path, **env: str) -> Services:
    """``svc`` with configuration built from these environment variables."""
    return attrs.evolve(svc, config=app_plugin.test_config(tmp_path, **env))


def s3_storage(endpoint: S3Endpoint) -> S3Storage:
    return S3Storage(S3Settings(
        photos_bucket=endpoint.photos_bucket, audio_bucket=endpoint.audio_bucket, access_key_id=ACCESS_KEY_ID,
        access_key_secret=ACCESS_KEY_SECRET, endpoint_url=endpoint.url, region="us-east-1",
    ))

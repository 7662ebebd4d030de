"""Which storage backend the configuration selects: S3/R2 buckets or the local media directory."""

from __future__ import annotations

from duo.config import Config
from duo.media.storage import (
    LocalSettings,
    LocalStorage,
    S3Settings,
    S3Storage,
    Storage,
    r2_endpoint,
)


def from_config(config: Config) -> Storage:
    s = config.storage
    if not s.bucket_name:
        return LocalStorage(LocalSettings(root=config.state_path / "media"))
    return S3Storage(
        S3Settings(
            photos_bucket=s.bucket_name,
            audio_bucket=s.audio_bucket_name or s.bucket_name,
            access_key_id=s.access_key_id,
            access_key_secret=s.access_key_secret,
            endpoint_url=s.endpoint_url or r2_endpoint(s.r2_acct_id),
        )
    )

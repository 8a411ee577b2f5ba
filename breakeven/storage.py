"""Job state that must outlive the machine, kept beside the outputs in object storage.

Under ``--default-storage-provider s3`` Snakemake moves every declared output to the bucket itself. Two things
live outside the declared outputs, because Snakemake deletes a failed job's outputs: the API response cache
(shared by every cell, one entry written as each answer arrives) and training checkpoints (resumed after a
kill). The Snakefile exports the storage prefix as ``BREAKEVEN_STATE_URL`` and the S3 settings under the
plugin's own variable names (``SNAKEMAKE_STORAGE_S3_*``); a job then writes each cache entry and checkpoint
under the same prefix, at the same relative path, and a job on another machine reads them back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

STATE_URL = "BREAKEVEN_STATE_URL"


class StateStoreError(OSError):
    """The state store could not be read or written (network, credentials, bucket)."""


S3_SETTINGS = ("endpoint_url", "region", "access_key", "secret_key", "token")


def export_for_jobs(storage_settings, provider_settings) -> None:
    """From the Snakefile: tell every job where its state goes (only for S3; other providers keep it local)."""
    if getattr(storage_settings, "default_storage_provider", None) != "s3":
        return
    os.environ[STATE_URL] = storage_settings.default_storage_prefix
    settings = (provider_settings or {}).get("s3")
    values = settings.get_settings(None) if settings else None
    for name in S3_SETTINGS:
        value = getattr(values, name, None)
        if value:
            os.environ.setdefault(f"SNAKEMAKE_STORAGE_S3_{name.upper()}", str(value))


def state_store() -> ObjectStore | None:
    """The job's state store, or None when the run keeps its state on local disk."""
    url = os.environ.get(STATE_URL)
    return ObjectStore.from_url(url) if url else None


@dataclass(frozen=True)
class ObjectStore:
    """Files under ``s3://bucket/prefix/<relative path>`` (the layout Snakemake gives the outputs)."""

    bucket: str
    prefix: str

    @classmethod
    def from_url(cls, url: str) -> ObjectStore:
        scheme, _, rest = url.partition("://")
        if scheme != "s3" or not rest:
            raise ValueError(f"{STATE_URL}={url!r}: expected s3://bucket/prefix")
        bucket, _, prefix = rest.partition("/")
        return cls(bucket, prefix.strip("/"))

    @cached_property
    def client(self):
        import boto3

        def setting(name: str) -> str | None:
            return os.environ.get(f"SNAKEMAKE_STORAGE_S3_{name.upper()}")

        return boto3.client(
            "s3",
            endpoint_url=setting("endpoint_url"),
            region_name=setting("region"),
            aws_access_key_id=setting("access_key"),
            aws_secret_access_key=setting("secret_key"),
            aws_session_token=setting("token"),
        )

    def key(self, path: Path) -> str:
        if Path(path).is_absolute():
            raise ValueError(f"{path}: state paths are relative to the working directory, as outputs are")
        return "/".join(filter(None, [self.prefix, Path(path).as_posix()]))

    def put(self, path: Path) -> None:
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.upload_file(str(path), self.bucket, self.key(path))
        except (BotoCoreError, ClientError, S3UploadFailedError) as err:
            raise StateStoreError(f"s3://{self.bucket}/{self.key(path)}: upload failed: {err}") from err

    def get(self, path: Path) -> bool:
        """Download ``path`` when the store has it (False when it does not); the file appears atomically."""
        from botocore.exceptions import BotoCoreError, ClientError

        target = Path(path)
        partial = target.with_name(f".{target.name}.part")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.client.download_file(self.bucket, self.key(path), str(partial))
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                return False
            raise StateStoreError(f"s3://{self.bucket}/{self.key(path)}: download failed: {err}") from err
        except BotoCoreError as err:
            raise StateStoreError(f"s3://{self.bucket}/{self.key(path)}: download failed: {err}") from err
        partial.replace(target)
        return True

    def listing(self, folder: Path) -> dict[str, tuple[int, float]]:
        """Every object under ``folder``: its relative path, size and modification time (epoch seconds)."""
        base = self.key(folder) + "/"
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=base)
        return {
            item["Key"][len(base) :]: (item["Size"], item["LastModified"].timestamp())
            for page in pages
            for item in page.get("Contents", [])
        }

    def push_tree(self, folder: Path) -> None:
        """Mirror ``folder``: upload what is new, resized or modified since its upload; delete what is gone."""
        remote = self.listing(folder)
        local = {p.relative_to(folder).as_posix(): p for p in Path(folder).rglob("*") if p.is_file()}
        for name, path in local.items():
            size, uploaded = remote.get(name, (None, 0.0))
            if size != path.stat().st_size or path.stat().st_mtime > uploaded:
                self.put(path)
        for name in set(remote) - set(local):
            self.client.delete_object(Bucket=self.bucket, Key=self.key(Path(folder) / name))

    def pull_tree(self, folder: Path) -> int:
        """Download every object under ``folder`` that is missing locally; the number downloaded."""
        missing = [name for name in self.listing(folder) if not (Path(folder) / name).exists()]
        for name in missing:
            self.get(Path(folder) / name)
        return len(missing)

    def delete_tree(self, folder: Path) -> None:
        for name in self.listing(folder):
            self.client.delete_object(Bucket=self.bucket, Key=self.key(Path(folder) / name))

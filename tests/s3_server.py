"""A real S3 server on loopback for the storage tests: moto's server mode (``moto[server]``), started as a
subprocess on a free 127.0.0.1 port and stopped by its PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from breakeven.providers.server import free_port

CREDENTIALS = {"SNAKEMAKE_STORAGE_S3_ACCESS_KEY": "loopback", "SNAKEMAKE_STORAGE_S3_SECRET_KEY": "loopback"}


class MotoServer:
    """``python -m moto.server`` on 127.0.0.1; ``bucket()`` creates a fresh bucket and returns its name."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """What a job needs to reach it: the S3 plugin's own variables (read by breakeven.storage too)."""
        return {
            **CREDENTIALS,
            "SNAKEMAKE_STORAGE_S3_ENDPOINT_URL": self.url,
            "SNAKEMAKE_STORAGE_S3_REGION": "us-east-1",
        }

    def __enter__(self) -> MotoServer:
        with self.log.open("wb") as handle:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.url, timeout=2).close()
                return self
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise RuntimeError(f"moto server did not start; see {self.log}") from None
                time.sleep(0.2)

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="loopback",
            aws_secret_access_key="loopback",
        )

    def bucket(self) -> str:
        name = f"breakeven-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

"""A training backend in another interpreter: Unsloth 2026.10 caps trl, transformers and datasets below the
pipeline's pins, so where ``unsloth`` does not import in the job's interpreter the train job hands its request to
this module under the CUDA stack's Python (``.venv-gpu``, ``make venv-gpu``) and reads the adapter's record
back. The worker's output goes to the job's log."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from breakeven import REPO_ROOT
from breakeven.train.request import TrainRequest

PATH_FIELDS = ("model_dir", "out_dir", "checkpoint_dir")


def request_to_json(request: TrainRequest) -> dict:
    return {key: str(value) if key in PATH_FIELDS else value for key, value in dataclasses.asdict(request).items()}


def request_from_json(data: dict) -> TrainRequest:
    return TrainRequest(**{key: Path(value) if key in PATH_FIELDS else value for key, value in data.items()})


def train_in(python: Path, backend: str, request: TrainRequest) -> dict:
    """Run ``backend`` on ``request`` under ``python``; the adapter's record, with that interpreter's libraries."""
    with tempfile.TemporaryDirectory(prefix="train-") as tmp:
        request_path, info_path = Path(tmp) / "request.json", Path(tmp) / "info.json"
        request_path.write_text(json.dumps(request_to_json(request)))
        env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
        command = [str(python), "-m", "breakeven.train.worker", backend, str(request_path), str(info_path)]
        done = subprocess.run(command, env=env, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"training worker {' '.join(command)} failed with exit status {done.returncode}")
        return json.loads(info_path.read_text())


def main(backend: str, request_path: str, info_path: str) -> None:
    """Worker: train one request with ``backend``; write its record and this interpreter's library versions."""
    from breakeven.runtime import package_versions
    from breakeven.train import LIBRARIES, TRAINERS

    info = TRAINERS.get(backend)(request_from_json(json.loads(Path(request_path).read_text())))
    Path(info_path).write_text(json.dumps(info | {"libraries": package_versions(LIBRARIES)}))


if __name__ == "__main__":
    main(*sys.argv[1:4])

"""Remote storage: the state that lives outside declared outputs (API cache entries, training checkpoints)
mirrored to a real S3 server on loopback (moto), and read back from it on a machine that lacks it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from s3_server import MotoServer

from breakeven.providers.cache import ResponseCache, request_key
from breakeven.storage import ObjectStore, StateStoreError


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with MotoServer(tmp_path_factory.mktemp("moto") / "moto.log") as server:
        yield server


@pytest.fixture
def store(s3, monkeypatch, tmp_path) -> ObjectStore:
    for name, value in s3.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # state paths are relative to the working directory, as outputs are
    return ObjectStore(s3.bucket(), "breakeven")


def test_storage_cache_entry_written_through_and_read_back(s3, store, tmp_path):
    request = {"provider": "openai", "body": {"messages": [{"role": "user", "content": "hi"}]}}
    key = request_key(request)
    ResponseCache(Path("results/cache/api"), store).put(key, request, {"text": "hello"})
    assert s3.keys(store.bucket) == [f"breakeven/results/cache/api/{key[:2]}/{key}.json"]

    os.rename("results", "results-first-machine")  # a second machine: no local cache at all
    second = ResponseCache(Path("results/cache/api"), store)
    assert second.get(key)["response"] == {"text": "hello"}
    assert second.path(key).exists()  # kept locally from now on
    assert ResponseCache(Path("results/cache/api"), store).get("0" * 64) is None


def test_storage_checkpoints_mirrored_pruned_and_restored(s3, store, tmp_path):
    folder = Path("results/default/checkpoints/m/t/lora/seed0")
    (folder / "checkpoint-5").mkdir(parents=True)
    (folder / "checkpoint-5" / "adapter_model.safetensors").write_bytes(b"a" * 100)
    (folder / "train_state.json").write_text('{"last_checkpoint": "checkpoint-5"}')
    store.push_tree(folder)
    prefix = f"breakeven/{folder.as_posix()}/"
    assert s3.keys(store.bucket, prefix) == [
        prefix + "checkpoint-5/adapter_model.safetensors",
        prefix + "train_state.json",
    ]

    time.sleep(1.1)  # S3 times are whole seconds
    (folder / "checkpoint-10").mkdir()
    (folder / "checkpoint-10" / "adapter_model.safetensors").write_bytes(b"b" * 100)
    (folder / "train_state.json").write_text('{"last_checkpoint": "checkpoint-10"}')  # same size, new content
    for stale in (folder / "checkpoint-5").iterdir():
        stale.unlink()
    (folder / "checkpoint-5").rmdir()  # save_total_limit rotated it out
    store.push_tree(folder)
    assert s3.keys(store.bucket, prefix) == [
        prefix + "checkpoint-10/adapter_model.safetensors",
        prefix + "train_state.json",
    ]

    os.rename("results", "results-first-machine")
    assert store.pull_tree(folder) == 2
    assert (folder / "train_state.json").read_text() == '{"last_checkpoint": "checkpoint-10"}'
    assert (folder / "checkpoint-10" / "adapter_model.safetensors").read_bytes() == b"b" * 100
    assert store.pull_tree(folder) == 0  # nothing missing any more
    store.delete_tree(folder)
    assert s3.keys(store.bucket, prefix) == []


def test_storage_errors_are_named_and_the_cache_fails_soft(s3, store, monkeypatch, caplog):
    monkeypatch.setenv("SNAKEMAKE_STORAGE_S3_SECRET_KEY", "wrong-secret")
    broken = ObjectStore("no-such-bucket", "breakeven")
    Path("x.json").write_text("{}")
    with pytest.raises(StateStoreError, match="s3://no-such-bucket/breakeven/x.json: upload failed"):
        broken.put(Path("x.json"))
    request = {"body": "b"}
    cache = ResponseCache(Path("results/cache/api"), broken)
    cache.put(request_key(request), request, {"text": "kept"})  # no crash: the local entry stands
    assert cache.get(request_key(request))["response"] == {"text": "kept"}
    assert "not mirrored to the state store" in caplog.text
    assert "wrong-secret" not in caplog.text


@pytest.mark.slow
def test_s3_workflow_resumes_from_the_bucket(s3, tmp_path):
    """The tiny-model workflow with S3 as default storage (profiles/s3 against moto on loopback): every output
    lands in the bucket; a second machine (the first's disk wiped, a fresh checkout at the same path, Snakemake's
    metadata in a database both reach) has nothing to do; editing one condition there reruns only its cells,
    reading inputs from the bucket."""
    import yaml
    from test_workflow import E2E_CONFIG
    from workflow_cli import planned_jobs, run_workflow

    from breakeven import REPO_ROOT

    bucket = s3.bucket()
    metadata = f"sqlite:///{tmp_path / 'metadata.db'}"
    env = {**s3.env, "BREAKEVEN_STORAGE_PREFIX": f"s3://{bucket}/breakeven"}

    def machine(config: dict) -> Path:
        """A machine's checkout: the same absolute path on every machine (Snakemake's database keys its
        metadata by the working directory's path), nothing else from an earlier machine."""
        workdir = tmp_path / "breakeven"
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir()
        (workdir / "e2e.yaml").write_text(yaml.safe_dump(config))
        return workdir

    def snakemake(workdir: Path, *args: str):
        arguments = ["--profile", str(REPO_ROOT / "profiles" / "s3"), "--configfile", str(workdir / "e2e.yaml")]
        arguments += ["--persistence-backend", "db", "--persistence-backend-db-url", metadata, *args]
        with pytest.MonkeyPatch.context() as patch:
            for key, value in env.items():
                patch.setenv(key, value)
            return run_workflow(workdir, *arguments, timeout=3600)

    first = machine(E2E_CONFIG)
    result = snakemake(first)
    assert result.returncode == 0, result.stderr[-5000:]
    keys = s3.keys(bucket, "breakeven/")
    assert "breakeven/results/e2e/tco/breakeven.csv" in keys and "breakeven/paper/paper.pdf" in keys
    assert any(k.startswith("breakeven/results/e2e/adapters/tiny-random-llama/support_email/lora_50/") for k in keys)
    assert any(k.startswith("breakeven/results/cache/api/") for k in keys)  # the API cache has a remote home
    # on the machine: its config and the state that is mirrored (API cache entries, the finished train states),
    # no output
    local = [p.relative_to(first).parts for p in first.rglob("*") if p.is_file() and ".snakemake" not in p.parts]
    state = [parts for parts in local if parts[:3] == ("results", "cache", "api") or parts[2:3] == ("checkpoints",)]
    assert state and sorted(set(local) - set(state)) == [("e2e.yaml",)]

    edited = {**E2E_CONFIG, "conditions": {**E2E_CONFIG["conditions"], "lora_50": {"train_size": 8, "lora": {"r": 4}}}}
    second = machine(E2E_CONFIG)
    result = snakemake(second, "-n")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr

    (second / "e2e.yaml").write_text(yaml.safe_dump(edited))
    result = snakemake(second, "-n")
    jobs = planned_jobs(result.stdout + result.stderr)
    assert jobs["train"] == 1 and jobs["predict_local"] == 1 and jobs["score"] == 1 and jobs["capacity"] == 1, jobs
    assert "fetch_model" not in jobs and "prepare" not in jobs and "predict_api" not in jobs
    adapter = next(k for k in keys if "/adapters/" in k and "/lora_50/" in k and k.endswith("adapter_config.json"))
    trained = s3.client().head_object(Bucket=bucket, Key=adapter)["LastModified"]
    result = snakemake(second)
    assert result.returncode == 0, result.stderr[-5000:]
    assert "Retrieving from storage: s3://" in result.stdout + result.stderr  # inputs read back from the bucket
    assert s3.client().head_object(Bucket=bucket, Key=adapter)["LastModified"] > trained


def test_shared_metadata_is_keyed_by_the_checkout_path(tmp_path):
    """What the README's second-machine recipe rests on (Snakemake's DB persistence, pinned version): a checkout
    at the first machine's path sees its params and reruns an edited job; one at another path sees no metadata
    and reruns nothing."""
    metadata = f"sqlite:///{tmp_path / 'metadata.db'}"
    snakefile = 'rule make:\n    output: "out.txt"\n    params: size=config["size"]\n    shell: "echo {params.size} > {output}"\n'

    def snakemake(workdir: Path, size: int, *args: str) -> str:
        (workdir / "Snakefile").write_text(snakefile)
        command = [sys.executable, "-m", "snakemake", "-d", str(workdir), "-s", str(workdir / "Snakefile")]
        command += ["--cores", "1", "--persistence-backend", "db", "--persistence-backend-db-url", metadata, *args]
        command += ["--config", f"size={size}"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=workdir)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout + done.stderr

    first = tmp_path / "checkout"
    first.mkdir()
    snakemake(first, 1)
    output = (first / "out.txt").read_text()
    shutil.rmtree(first)  # the first machine is gone; its output survives (here: copied, as from the bucket)
    for checkout in (first, tmp_path / "elsewhere"):
        checkout.mkdir()
        (checkout / "out.txt").write_text(output)
    assert "Nothing to be done" in snakemake(first, 1, "-n")
    assert "Params have changed since last execution" in snakemake(first, 2, "-n")
    elsewhere = snakemake(tmp_path / "elsewhere", 2, "-n")
    assert "Nothing to be done" in elsewhere and "missing provenance" in elsewhere

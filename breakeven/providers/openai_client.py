"""OpenAI (and any OpenAI-compatible server) through the official SDK: Chat Completions or the Responses API."""

from __future__ import annotations

import email.utils
import time

import openai
import pydantic
from openai import AsyncOpenAI

from breakeven.providers import PermanentError, Reply, TransientError

RETRY_STATUS = {408, 409, 429}
"""Besides every 5xx: request timeout, conflict (OpenAI's transient lock error), rate limit."""


def retry_after_s(headers) -> float | None:
    """Seconds the server asked to wait (``retry-after-ms``, ``retry-after`` as seconds or an HTTP date)."""
    if headers is None:
        return None
    if headers.get("retry-after-ms"):
        try:
            return float(headers["retry-after-ms"]) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def first_token_logprobs(logprobs: dict | None) -> list[tuple[str, float]] | None:
    """``(token, log-probability)`` of the first generated token's ``top_logprobs`` from a Chat Completions
    choice's ``logprobs`` (as JSON), most likely first; None when the reply carries none."""
    content = (logprobs or {}).get("content") or []
    if not content:
        return None
    top = content[0].get("top_logprobs") or [content[0]]
    return sorted(((t["token"], float(t["logprob"])) for t in top), key=lambda pair: -pair[1])


class OpenAIClient:
    """One API system on the openai SDK (SDK retries off: the limiter retries and counts)."""

    provider = "openai"

    def __init__(self, system: dict, api_key: str, base_url: str | None) -> None:
        self.system = system
        self.client = AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=system["timeout_s"])

    @property
    def endpoint(self) -> str:
        return "/v1/responses" if self.system["api"] == "responses" else "/v1/chat/completions"

    def body(
        self, model: str, messages: list[dict], max_tokens: int, schema: dict | None, top_logprobs: int = 0
    ) -> dict:
        """The request body: what is sent, cached and recorded (temperature only where the model takes it;
        ``top_logprobs`` > 0 asks Chat Completions for the token log-probabilities)."""
        body: dict = {"model": model}
        if self.system["api"] == "responses":
            # stream=False spelled out: some compatible servers (transformers serve) stream unless told not to
            body |= {"input": messages, "max_output_tokens": max_tokens, "stream": False}
            if schema:
                body["text"] = {"format": {"type": "json_schema", "name": "answer", "schema": schema, "strict": True}}
        else:
            body |= {"messages": messages, "max_completion_tokens": max_tokens}
            if schema:
                body["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "answer", "schema": schema, "strict": True},
                }
            if top_logprobs:
                body |= {"logprobs": True, "top_logprobs": top_logprobs}
        if self.system["supports_temperature"]:
            body["temperature"] = 0
        return body | self.system["request_options"]

    async def send(self, body: dict) -> Reply:
        try:
            if self.system["api"] == "responses":
                response = await self.client.responses.create(**body)
                usage = response.usage
                details = getattr(usage, "input_tokens_details", None) if usage else None
                return Reply(
                    text=response.output_text or "",
                    input_tokens=usage.input_tokens if usage else 0,
                    output_tokens=usage.output_tokens if usage else 0,
                    cached_tokens=(getattr(details, "cached_tokens", 0) or 0) if details else 0,
                    model_version=response.model,
                )
            response = await self.client.chat.completions.create(**body)
        except openai.APIStatusError as err:
            if err.status_code in RETRY_STATUS or err.status_code >= 500:
                raise TransientError(f"HTTP {err.status_code}", retry_after_s(err.response.headers)) from err
            raise PermanentError(f"HTTP {err.status_code}: {err.message}") from err
        except (openai.APITimeoutError, openai.APIConnectionError) as err:
            raise TransientError(type(err).__name__) from err
        except (openai.APIResponseValidationError, pydantic.ValidationError, ValueError) as err:
            raise TransientError(f"unreadable response body ({type(err).__name__})") from err
        if not response.choices:
            raise TransientError("response without choices")
        choice = response.choices[0]
        usage = response.usage
        details = getattr(usage, "prompt_tokens_details", None) if usage else None
        return Reply(
            text=choice.message.content or "",
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
            cached_tokens=(getattr(details, "cached_tokens", 0) or 0) if details else 0,
            model_version=response.model,
            first_logprobs=first_token_logprobs(choice.logprobs.model_dump() if choice.logprobs else None),
        )

    async def aclose(self) -> None:
        await self.client.close()

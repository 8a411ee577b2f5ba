"""OpenAI (and any OpenAI-compatible server) through the official SDK: Chat Completions or the Responses API."""

from __future__ import annotations

import difflib
import email.utils
import inspect
import time

import openai
import pydantic
from openai import AsyncOpenAI
from openai.resources.chat.completions import AsyncCompletions
from openai.resources.responses import AsyncResponses
from openai.types.chat import ChatCompletion
from openai.types.responses import Response

from breakeven.providers import PermanentError, Reply, TransientError
from breakeven.providers.limits import token_estimate
from breakeven.providers.redact import Redactor

RETRY_STATUS = {408, 409, 429}
"""Besides every 5xx: request timeout, conflict (OpenAI's transient lock error), rate limit."""
SDK_ARGUMENTS = {"self", "extra_headers", "extra_query", "extra_body", "timeout"}
"""Keyword arguments of ``create`` that the SDK consumes itself (never request fields)."""
SET_BY_CLIENT = {
    "responses": {"model", "input", "max_output_tokens", "stream", "text", "temperature"},
    "chat_completions": {"model", "messages", "max_completion_tokens", "max_tokens", "response_format", "temperature"},
}
"""Request fields :meth:`OpenAIClient.body` writes; request_options may not override them."""
UNREADABLE = (AttributeError, TypeError, KeyError, IndexError, ValueError)
"""What reading a body of the wrong shape raises (e.g. the SDK hands back a proxy's HTML page as a str)."""


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


def _usage_reply(text: str, usage, input_name: str, output_name: str, details_name: str) -> dict:
    """Text and billed usage (a missing usage block counts as zero tokens)."""
    details = getattr(usage, details_name, None)
    return {
        "text": text,
        "input_tokens": getattr(usage, input_name, None) or 0,
        "output_tokens": getattr(usage, output_name, None) or 0,
        "cached_tokens": getattr(details, "cached_tokens", None) or 0,
    }


def responses_reply(response) -> Reply:
    """A Reply from a Responses API object; a body without ``output`` is unreadable (retried)."""
    if not isinstance(response, Response) or response.output is None:
        raise TransientError(f"unreadable response body (no Responses output: {type(response).__name__})")
    reason = response.incomplete_details.reason if response.incomplete_details else None
    return Reply(
        **_usage_reply(
            response.output_text or "", response.usage, "input_tokens", "output_tokens", "input_tokens_details"
        ),
        model_version=response.model,
        truncated=response.status == "incomplete" and reason != "content_filter",
    )


def chat_reply(response) -> Reply:
    """A Reply from a Chat Completions object; a body without choices is unreadable (retried)."""
    if not isinstance(response, ChatCompletion) or not response.choices:
        raise TransientError(f"unreadable response body (no choices: {type(response).__name__})")
    choice = response.choices[0]
    return Reply(
        **_usage_reply(
            choice.message.content or "", response.usage, "prompt_tokens", "completion_tokens", "prompt_tokens_details"
        ),
        model_version=response.model,
        first_logprobs=first_token_logprobs(choice.logprobs.model_dump() if choice.logprobs else None),
        truncated=choice.finish_reason == "length",
    )


class OpenAIClient:
    """One API system on the openai SDK (SDK retries off: the limiter retries and counts)."""

    provider = "openai"

    def __init__(self, system: dict, api_key: str, base_url: str | None) -> None:
        self.system = system
        self.client = AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=system["timeout_s"])
        self.redactor = Redactor.configured(api_key)

    @property
    def endpoint(self) -> str:
        return "/v1/responses" if self.system["api"] == "responses" else "/v1/chat/completions"

    @staticmethod
    def option_problems(options: dict, api: str) -> list[tuple[str, str]]:
        """(field, why) for each request option the endpoint does not take, read from the SDK's ``create``."""
        create = AsyncResponses.create if api == "responses" else AsyncCompletions.create
        accepted = set(inspect.signature(create).parameters) - SDK_ARGUMENTS - SET_BY_CLIENT[api]
        problems = []
        for name in options:
            if name in SET_BY_CLIENT[api]:
                problems.append((name, f"is set by the client itself for api {api!r}; it cannot be overridden"))
            elif name not in accepted:
                near = difflib.get_close_matches(name, sorted(accepted), n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                problems.append(
                    (name, f"is not a parameter of the {api} endpoint in openai {openai.__version__}{hint}")
                )
        return problems

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

    @staticmethod
    def token_estimate(body: dict) -> int:
        """Tokens a request may use: its prompt (messages or input and instructions) plus its output budget."""
        budget = body.get("max_output_tokens") or body.get("max_completion_tokens") or body.get("max_tokens") or 0
        return token_estimate(body.get("messages"), body.get("input"), body.get("instructions"), budget=budget)

    async def send(self, body: dict) -> Reply:
        responses = self.system["api"] == "responses"
        try:
            if responses:
                response = await self.client.responses.create(**body)
            else:
                response = await self.client.chat.completions.create(**body)
        except openai.APIStatusError as err:
            if err.status_code in RETRY_STATUS or err.status_code >= 500:
                raise TransientError(f"HTTP {err.status_code}", retry_after_s(err.response.headers)) from err
            raise PermanentError(f"HTTP {err.status_code}: {err.message}") from err
        except (openai.APITimeoutError, openai.APIConnectionError) as err:
            raise TransientError(type(err).__name__) from err
        except (openai.APIResponseValidationError, pydantic.ValidationError, ValueError) as err:
            raise TransientError(f"unreadable response body ({type(err).__name__})") from err
        try:
            return responses_reply(response) if responses else chat_reply(response)
        except UNREADABLE as err:
            raise TransientError(f"unreadable response body ({type(err).__name__})") from err

    async def aclose(self) -> None:
        await self.client.close()

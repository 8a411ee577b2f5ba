"""Gemini through the official google-genai SDK (``HttpOptions(base_url=...)`` points it at any endpoint)."""

from __future__ import annotations

import difflib
import warnings

import httpx2
import pydantic
from google import genai
from google.genai import errors, types

from breakeven.providers import PermanentError, Reply, TransientError
from breakeven.providers.limits import token_estimate
from breakeven.providers.openai_client import RETRY_STATUS, UNREADABLE, retry_after_s
from breakeven.providers.redact import Redactor

SET_BY_CLIENT = {
    "system_instruction",
    "max_output_tokens",
    "temperature",
    "response_mime_type",
    "response_json_schema",
    "http_options",
}
"""GenerateContentConfig fields :meth:`GeminiClient.body` (or the client's own options) owns."""


def contents(messages: list[dict]) -> tuple[str | None, list[dict]]:
    """OpenAI-style messages as Gemini's system instruction and user/model turns."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system") or None
    turns = [
        {"role": "model" if m["role"] == "assistant" else "user", "parts": [{"text": m["content"]}]}
        for m in messages
        if m["role"] != "system"
    ]
    return system, turns


def gemini_reply(response: types.GenerateContentResponse) -> Reply:
    """A Reply from a generateContent answer; one with neither a candidate nor a block reason is unreadable."""
    if not response.candidates and not response.prompt_feedback:
        raise TransientError("unreadable response body (no candidates and no prompt feedback)")
    usage = response.usage_metadata
    output = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0) if usage else 0
    finish = response.candidates[0].finish_reason if response.candidates else None
    return Reply(
        text=response.text or "",
        input_tokens=(usage.prompt_token_count or 0) if usage else 0,
        output_tokens=output,
        cached_tokens=(usage.cached_content_token_count or 0) if usage else 0,
        model_version=response.model_version,
        truncated=finish == types.FinishReason.MAX_TOKENS,
    )


def _value_problems(name: str, value) -> list[tuple[str, str]]:
    """What GenerateContentConfig says of one option's value: validation errors, and the SDK's warnings (it
    accepts an unknown enum value such as a misspelt thinking level with a warning only)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            types.GenerateContentConfig(**{name: value})
        except pydantic.ValidationError as err:
            return [(".".join(str(part) for part in e["loc"]), e["msg"]) for e in err.errors()]
    return [(name, str(warning.message)) for warning in caught]


class GeminiClient:
    """One API system on google-genai (SDK retries off: one attempt; the limiter retries and counts)."""

    provider = "gemini"
    endpoint = "generateContent"

    def __init__(self, system: dict, api_key: str, base_url: str | None) -> None:
        self.system = system
        options = types.HttpOptions(
            base_url=base_url,
            timeout=int(system["timeout_s"] * 1000),
            retry_options=types.HttpRetryOptions(attempts=1),
        )
        self.client = genai.Client(api_key=api_key, http_options=options)
        self.redactor = Redactor.configured(api_key)

    @staticmethod
    def option_problems(options: dict, api: str) -> list[tuple[str, str]]:
        """(field, why) for each request option GenerateContentConfig rejects (unknown name or invalid value)."""
        accepted = set(types.GenerateContentConfig.model_fields) - SET_BY_CLIENT
        problems = []
        for name in options:
            if name in SET_BY_CLIENT:
                problems.append((name, "is set by the client itself; it cannot be overridden"))
            elif name not in accepted:
                near = difflib.get_close_matches(name, sorted(accepted), n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                problems.append((name, f"is not a field of google-genai's GenerateContentConfig{hint}"))
        return problems or [problem for name, value in options.items() for problem in _value_problems(name, value)]

    def body(self, model: str, messages: list[dict], max_tokens: int, schema: dict | None) -> dict:
        system, turns = contents(messages)
        config: dict = {"max_output_tokens": max_tokens}
        if system:
            config["system_instruction"] = system
        if self.system["supports_temperature"]:
            config["temperature"] = 0
        if schema:
            config |= {"response_mime_type": "application/json", "response_json_schema": schema}
        config |= self.system["request_options"]
        return {"model": model, "contents": turns, "config": config}

    @staticmethod
    def token_estimate(body: dict) -> int:
        """Tokens a request may use: its turns and system instruction plus its output budget."""
        config = body.get("config") or {}
        return token_estimate(
            body.get("contents"), config.get("system_instruction"), budget=config.get("max_output_tokens") or 0
        )

    async def send(self, body: dict) -> Reply:
        try:
            response = await self.client.aio.models.generate_content(
                model=body["model"], contents=body["contents"], config=types.GenerateContentConfig(**body["config"])
            )
        except errors.APIError as err:
            if err.code in RETRY_STATUS or (err.code or 0) >= 500:
                headers = getattr(err.response, "headers", None)
                raise TransientError(f"HTTP {err.code}", retry_after_s(headers)) from err
            raise PermanentError(f"HTTP {err.code}: {err.message}") from err
        except (httpx2.TransportError, TimeoutError) as err:
            raise TransientError(type(err).__name__) from err
        except (pydantic.ValidationError, ValueError) as err:
            raise TransientError(f"unreadable response body ({type(err).__name__})") from err
        try:
            return gemini_reply(response)
        except UNREADABLE as err:
            raise TransientError(f"unreadable response body ({type(err).__name__})") from err

    async def aclose(self) -> None:
        await self.client.aio.aclose()

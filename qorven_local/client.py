"""A Python client for the Qorven Local API (the ``qorven`` CLI is built on it).

    from qorven_local.client import Client
    qorven = Client()                                   # $QORVEN_SERVER / $QORVEN_TOKEN, else the local install
    agent = qorven.agents.create({"name": "scout", "instructions": "Be brief."})
    for event in qorven.chat.stream("scout", "hello"):  # ChatEvent: session, delta, tool_call, ...
        print(event.text, end="")
    with qorven.subscribe(["activity"]) as live:        # /ws live events
        for event in live:
            ...

Defaults: ``server`` is ``$QORVEN_SERVER``, else the URL of the desktop app running on the local data
root, else ``http://127.0.0.1:7421``; ``token`` is ``$QORVEN_TOKEN``, else the local data root's
``admin-token`` file. One attribute per endpoint family (``agents``, ``sessions``, ``messages``,
``chat``, ``memory``, ``models``, ``providers``, ``tools``, ``rooms``, ``channels``) with one method
per endpoint. Errors are typed by the envelope's ``code``:

    ClientError
    ├── ConnectionFailed          the server could not be reached
    └── APIError                  an error envelope (code, status, message, param, request_id, retry_after)
        ├── BadRequest            400 invalid_json, validation_error; 413, 415, 422 invalid_arguments
        ├── AuthenticationError   401 unauthorized
        ├── PermissionDenied      403 admin_only, forbidden_host, forbidden_origin
        ├── NotFound              404 not_found, model_not_found
        ├── Conflict              409 conflict
        ├── RateLimited           429 rate_limited, 503 too_many_runs, too_many_connections
        ├── ServiceUnavailable    503 no_model_configured, not_ready
        ├── ProviderFailed        502 provider_error, 504 provider_timeout
        └── ServerError           500 internal_error (and anything unexpected)

httpx is imported on first use, so ``qorven serve`` (whose CLI imports this module) starts faster.
"""

from __future__ import annotations

import builtins
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generator, Iterator
from urllib.parse import quote

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APIError", "AuthenticationError", "BadRequest", "ChatEvent", "Client", "ClientError", "Conflict",
    "ConnectionFailed", "DEFAULT_SERVER", "LiveEvents", "NotFound", "Page", "PermissionDenied",
    "ProviderFailed", "RateLimited", "ServerError", "ServiceUnavailable", "default_server", "default_token",
]

DEFAULT_SERVER = "http://127.0.0.1:7421"
STREAM_READ_TIMEOUT = 300.0  # the server sends `: ping` while a run is quiet, so this is generous


# ---------------------------------------------------------------------------------------------- errors

class ClientError(Exception):
    """Base of everything this client raises."""


class ConnectionFailed(ClientError):
    """The server could not be reached (not running, wrong port, connection dropped)."""


class APIError(ClientError):
    """The server answered with an error envelope."""

    def __init__(self, code: str, message: str, status: int, *, param: str | None = None,
                 request_id: str | None = None, retry_after: int | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.param = param
        self.request_id = request_id
        self.retry_after = retry_after
        self.details = details


class BadRequest(APIError):
    """The request was malformed or failed validation."""


class AuthenticationError(APIError):
    """Missing, unknown or revoked token."""


class PermissionDenied(APIError):
    """The token may not do this (admin only), or the Host/Origin was refused."""


class NotFound(APIError):
    """Unknown id, route or model."""


class Conflict(APIError):
    """A unique name is taken or the state forbids the change."""


class RateLimited(APIError):
    """Too many requests or runs; ``retry_after`` says when to try again."""


class ServiceUnavailable(APIError):
    """The server is not ready or has no usable model."""


class ProviderFailed(APIError):
    """The upstream model provider failed or timed out."""


class ServerError(APIError):
    """A bug on the server (the message carries its request id)."""


ERRORS_BY_CODE: dict[str, type[APIError]] = {
    "invalid_json": BadRequest, "validation_error": BadRequest, "payload_too_large": BadRequest,
    "unsupported_media_type": BadRequest, "invalid_arguments": BadRequest, "method_not_allowed": BadRequest,
    "upgrade_required": BadRequest,
    "unauthorized": AuthenticationError,
    "admin_only": PermissionDenied, "forbidden_host": PermissionDenied, "forbidden_origin": PermissionDenied,
    "not_found": NotFound, "model_not_found": NotFound,
    "conflict": Conflict,
    "rate_limited": RateLimited, "too_many_runs": RateLimited, "too_many_connections": RateLimited,
    "no_model_configured": ServiceUnavailable, "not_ready": ServiceUnavailable,
    "provider_error": ProviderFailed, "provider_timeout": ProviderFailed,
    "internal_error": ServerError,
}
_ERRORS_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequest, 401: AuthenticationError, 403: PermissionDenied, 404: NotFound, 409: Conflict,
    413: BadRequest, 415: BadRequest, 422: BadRequest, 429: RateLimited, 502: ProviderFailed,
    503: ServiceUnavailable, 504: ProviderFailed,
}


def error_from_envelope(status: int, body: Any, retry_after: str | None = None) -> APIError:
    """The typed error for an error envelope (or any non-2xx body)."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        err = {"code": "internal_error" if status >= 500 else "http_error",
               "message": f"HTTP {status}: {str(body)[:200]}"}
    code = str(err.get("code") or "internal_error")
    cls = ERRORS_BY_CODE.get(code) or _ERRORS_BY_STATUS.get(status) or (ServerError if status >= 500 else APIError)
    try:
        after = int(retry_after) if retry_after else None
    except ValueError:
        after = None
    return cls(code, str(err.get("message") or code), status, param=err.get("param"),
               request_id=err.get("request_id"), retry_after=after, details=err.get("details"))


# -------------------------------------------------------------------------------------- results

@dataclass
class Page:
    """One page of a list endpoint."""

    data: list[dict[str, Any]]
    has_more: bool = False
    next_cursor: str | None = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


@dataclass
class ChatEvent:
    """One event of a streamed chat.

    ``type`` is ``session`` / ``memory`` / ``tool_call`` / ``tool_result`` (the Qorven form's named
    events), ``delta`` (a ``chat.completion.chunk`` carrying text or tool-call pieces), ``finish``
    (the chunk with ``finish_reason``), ``usage`` (the usage chunk) or ``done`` (``[DONE]``).
    """

    type: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The text this event adds to the answer ('' for every other kind)."""
        if self.type != "delta":
            return ""
        choices = self.data.get("choices") or [{}]
        return (choices[0].get("delta") or {}).get("content") or ""


def _sse_events(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    """(event name, data) per server-sent event; comments (keep-alives) are skipped."""
    name = "message"
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield name, "\n".join(data)
            name, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
    if data:
        yield name, "\n".join(data)


def _chat_events(lines: Iterator[str], status: int = 200) -> Iterator[ChatEvent]:
    for name, raw in _sse_events(lines):
        if raw == "[DONE]":
            yield ChatEvent("done")
            return
        try:
            data = json.loads(raw)
        except ValueError:
            raise ServerError("internal_error", f"unparseable stream data: {raw[:120]!r}", status) from None
        if name != "message":
            yield ChatEvent(name, data)
        elif "error" in data:
            raise error_from_envelope(502 if status == 200 else status, data)
        elif not data.get("choices"):
            yield ChatEvent("usage" if data.get("usage") else "delta", data)
        elif data["choices"][0].get("finish_reason"):
            yield ChatEvent("finish", data)
        else:
            yield ChatEvent("delta", data)


# ------------------------------------------------------------------------------------ defaults

def _local_home() -> Path | None:
    try:
        from qorven_local.config import resolve_home
        return resolve_home(os.environ.get("QORVEN_HOME"))[0]
    except Exception:  # no usable data root (e.g. platformdirs missing): only env/args then
        return None


def default_server(home: Path | None = None) -> str:
    """``$QORVEN_SERVER``, else the running desktop app's URL on the local data root, else port 7421."""
    if os.environ.get("QORVEN_SERVER"):
        return os.environ["QORVEN_SERVER"].rstrip("/")
    home = home or _local_home()
    if home is not None:
        try:
            info = json.loads((home / "instance.json").read_text(encoding="utf-8"))
            if isinstance(info, dict) and str(info.get("url", "")).startswith("http://"):
                return str(info["url"]).rstrip("/")
        except (OSError, ValueError):
            pass
    return DEFAULT_SERVER


def default_token(home: Path | None = None) -> str | None:
    """``$QORVEN_TOKEN``, else the local data root's ``admin-token`` file, else None."""
    if os.environ.get("QORVEN_TOKEN"):
        return os.environ["QORVEN_TOKEN"].strip()
    home = home or _local_home()
    if home is not None:
        try:
            return (home / "admin-token").read_text(encoding="utf-8").strip() or None
        except OSError:
            return None
    return None


def _q(value: str) -> str:
    return quote(str(value), safe="")


def _params(**kw: Any) -> dict[str, Any]:
    out = {}
    for k, v in kw.items():
        if v is None:
            continue
        out[k] = ("true" if v else "false") if isinstance(v, bool) else v
    return out


# --------------------------------------------------------------------------------- families

class _Family:
    def __init__(self, client: "Client") -> None:
        self._c = client


class _Listable(_Family):
    def _page(self, path: str, **params: Any) -> Page:
        body = self._c.request("GET", path, params=_params(**params))
        return Page(body.get("data", []), bool(body.get("has_more")), body.get("next_cursor"))

    def _iterate(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        cursor = None
        while True:
            page = self._page(path, cursor=cursor, **params)
            yield from page.data
            if not page.has_more or not page.next_cursor:
                return
            cursor = page.next_cursor

    def _resolve(self, path: str, id_prefix: str, noun: str, name_or_id: str) -> dict[str, Any]:
        """The object at ``path`` with this id (it starts with ``id_prefix``), else the one with this name."""
        if name_or_id.startswith(id_prefix):
            return self._c.request("GET", f"{path}/{_q(name_or_id)}")
        for item in self._iterate(path, limit=200):
            if item.get("name") == name_or_id:
                return item
        raise NotFound("not_found", f"{noun} {name_or_id} not found", 404)


class Agents(_Listable):
    """``/v1/agents``."""

    def list(self, *, include_deleted: bool | None = None, limit: int | None = None,
             cursor: str | None = None) -> Page:
        return self._page("/v1/agents", include_deleted=include_deleted, limit=limit, cursor=cursor)

    def iterate(self, *, include_deleted: bool | None = None) -> Iterator[dict[str, Any]]:
        return self._iterate("/v1/agents", include_deleted=include_deleted, limit=200)

    def get(self, agent_id: str, *, include_deleted: bool | None = None) -> dict[str, Any]:
        return self._c.request("GET", f"/v1/agents/{_q(agent_id)}", params=_params(include_deleted=include_deleted))

    def create(self, agent: dict[str, Any]) -> dict[str, Any]:
        return self._c.request("POST", "/v1/agents", json=agent)

    def update(self, agent_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self._c.request("PATCH", f"/v1/agents/{_q(agent_id)}", json=changes)

    def delete(self, agent_id: str) -> dict[str, Any]:
        return self._c.request("DELETE", f"/v1/agents/{_q(agent_id)}")

    def resolve(self, name_or_id: str) -> dict[str, Any]:
        """An agent by id or by its unique name."""
        return self._resolve("/v1/agents", "agt_", "agent", name_or_id)


class Sessions(_Listable):
    """``/v1/sessions``."""

    def list(self, *, agent_id: str | None = None, channel: str | None = None, status: str | None = None,
             q: str | None = None, limit: int | None = None, cursor: str | None = None) -> Page:
        return self._page("/v1/sessions", agent_id=agent_id, channel=channel, status=status, q=q, limit=limit,
                          cursor=cursor)

    def iterate(self, **filters: Any) -> Iterator[dict[str, Any]]:
        return self._iterate("/v1/sessions", limit=200, **filters)

    def open(self, agent_id: str, channel: str = "web", peer: str | None = None,
             title: str | None = None) -> dict[str, Any]:
        """The canonical session for (agent, channel, peer) on chat channels; a new one on others."""
        body: dict[str, Any] = {"agent_id": agent_id, "channel": channel}
        if peer is not None:
            body["peer"] = peer
        if title is not None:
            body["title"] = title
        return self._c.request("POST", "/v1/sessions", json=body)

    def get(self, session_id: str) -> dict[str, Any]:
        return self._c.request("GET", f"/v1/sessions/{_q(session_id)}")

    def update(self, session_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self._c.request("PATCH", f"/v1/sessions/{_q(session_id)}", json=changes)

    def archive(self, session_id: str) -> dict[str, Any]:
        return self._c.request("DELETE", f"/v1/sessions/{_q(session_id)}")


class Messages(_Listable):
    """``/v1/messages`` (a session's messages, oldest first)."""

    def list(self, session_id: str, *, channel: str | None = None, limit: int | None = None,
             cursor: str | None = None) -> Page:
        return self._page("/v1/messages", session_id=session_id, channel=channel, limit=limit, cursor=cursor)

    def iterate(self, session_id: str, *, channel: str | None = None) -> Iterator[dict[str, Any]]:
        return self._iterate("/v1/messages", session_id=session_id, channel=channel, limit=200)


class Chat(_Family):
    """``/v1/chat/completions``: the Qorven form (an agent in a session) and the OpenAI form."""

    def stream(self, agent: str, message: str, *, session_id: str | None = None) -> Generator[ChatEvent, None, None]:
        """Run ``agent`` (id or name) on ``message``; yield its events as they arrive."""
        body: dict[str, Any] = {"agent_id": agent, "message": message, "stream": True}
        if session_id:
            body["session_id"] = session_id
        return self._c.stream_events("/v1/chat/completions", body)

    def send(self, agent: str, message: str, *, session_id: str | None = None) -> dict[str, Any]:
        """Run ``agent`` on ``message`` and return the whole ``chat.completion`` (with ``qorven``)."""
        body: dict[str, Any] = {"agent_id": agent, "message": message, "stream": False}
        if session_id:
            body["session_id"] = session_id
        return self._c.request("POST", "/v1/chat/completions", json=body)

    def completions(self, model: str, messages: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
        """The OpenAI form, not streamed: ``model`` is a provider model or ``qor:<agent>``."""
        return self._c.request("POST", "/v1/chat/completions",
                               json={**options, "model": model, "messages": messages, "stream": False})

    def completions_stream(self, model: str, messages: list[dict[str, Any]],
                           **options: Any) -> Generator[ChatEvent, None, None]:
        """The OpenAI form, streamed."""
        return self._c.stream_events("/v1/chat/completions",
                                     {**options, "model": model, "messages": messages, "stream": True})


class Memory(_Listable):
    """``/v1/memory`` and ``/v1/embeddings``."""

    def search(self, query: str, *, scope: str = "workspace", agent_id: str | None = None,
               session_id: str | None = None, max_results: int | None = None, kinds: list[str] | None = None,
               min_score: float | None = None) -> list[dict[str, Any]]:
        body = {k: v for k, v in {"query": query, "scope": scope, "agent_id": agent_id, "session_id": session_id,
                                  "max_results": max_results, "kinds": kinds, "min_score": min_score}.items()
                if v is not None}
        return self._c.request("POST", "/v1/memory/search", json=body).get("data", [])

    def save(self, content: str, *, scope: str = "workspace", kind: str = "note", agent_id: str | None = None,
             session_id: str | None = None, importance: float | None = None) -> dict[str, Any]:
        body = {k: v for k, v in {"content": content, "scope": scope, "kind": kind, "agent_id": agent_id,
                                  "session_id": session_id, "importance": importance}.items() if v is not None}
        return self._c.request("POST", "/v1/memory/save", json=body)

    def list(self, *, limit: int | None = None, cursor: str | None = None, **filters: Any) -> Page:
        return self._page("/v1/memory", limit=limit, cursor=cursor, **filters)

    def get(self, memory_id: str) -> dict[str, Any]:
        return self._c.request("GET", f"/v1/memory/{_q(memory_id)}")

    def update(self, memory_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self._c.request("PATCH", f"/v1/memory/{_q(memory_id)}", json=changes)

    def delete(self, memory_id: str) -> dict[str, Any]:
        return self._c.request("DELETE", f"/v1/memory/{_q(memory_id)}")

    def embed(self, texts: builtins.list[str] | str,
              model: str = "all-minilm-l6-v2") -> builtins.list[builtins.list[float]]:
        body = self._c.request("POST", "/v1/embeddings", json={"model": model, "input": texts})
        return [item["embedding"] for item in sorted(body["data"], key=lambda d: d["index"])]


class Models(_Family):
    """``/v1/models``: what clients may pick, the providers' catalog, the selection and the default."""

    def list(self) -> list[dict[str, Any]]:
        return self._c.request("GET", "/v1/models").get("data", [])

    def get(self, model_id: str) -> dict[str, Any]:
        return self._c.request("GET", f"/v1/models/{quote(model_id, safe='/:')}")

    def catalog(self, *, refresh: bool | None = None) -> dict[str, Any]:
        return self._c.request("GET", "/v1/models/catalog", params=_params(refresh=refresh))

    def selected(self) -> builtins.list[str]:
        return self._c.request("GET", "/v1/models/selected").get("models", [])

    def select(self, models: builtins.list[str]) -> builtins.list[str]:
        return self._c.request("PUT", "/v1/models/selected", json={"models": list(models)}).get("models", [])

    def default(self) -> str | None:
        return self._c.request("GET", "/v1/models/default").get("model")

    def set_default(self, model: str) -> str | None:
        return self._c.request("PUT", "/v1/models/default", json={"model": model}).get("model")


class Providers(_Listable):
    """``/v1/providers`` (keys are write-only)."""

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> Page:
        return self._page("/v1/providers", limit=limit, cursor=cursor)

    def iterate(self) -> Iterator[dict[str, Any]]:
        return self._iterate("/v1/providers", limit=200)

    def get(self, provider_id: str) -> dict[str, Any]:
        return self._c.request("GET", f"/v1/providers/{_q(provider_id)}")

    def create(self, provider: dict[str, Any]) -> dict[str, Any]:
        return self._c.request("POST", "/v1/providers", json=provider)

    def update(self, provider_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self._c.request("PATCH", f"/v1/providers/{_q(provider_id)}", json=changes)

    def delete(self, provider_id: str) -> dict[str, Any]:
        return self._c.request("DELETE", f"/v1/providers/{_q(provider_id)}")

    def set_key(self, provider_id: str, key: str) -> dict[str, Any]:
        return self._c.request("PUT", f"/v1/providers/{_q(provider_id)}/keys", json={"key": key})

    def delete_key(self, provider_id: str) -> dict[str, Any]:
        return self._c.request("DELETE", f"/v1/providers/{_q(provider_id)}/keys")

    def test(self, provider_id: str) -> dict[str, Any]:
        return self._c.request("POST", f"/v1/providers/{_q(provider_id)}/test", json={})

    def detect(self) -> builtins.list[dict[str, Any]]:
        return self._c.request("GET", "/v1/providers/detect").get("data", [])

    def resolve(self, name_or_id: str) -> dict[str, Any]:
        """A provider by id or by name."""
        return self._resolve("/v1/providers", "prv_", "provider", name_or_id)


class Tools(_Listable):
    """``/v1/tools``."""

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> Page:
        return self._page("/v1/tools", limit=limit, cursor=cursor)

    def get(self, tool_id: str) -> dict[str, Any]:
        return self._c.request("GET", f"/v1/tools/{_q(tool_id)}")

    def invoke(self, tool_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
        return self._c.request("POST", f"/v1/tools/{_q(tool_id)}/invoke", json={"arguments": arguments})


class Rooms(_Listable):
    """``/v1/rooms``."""

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> Page:
        return self._page("/v1/rooms", limit=limit, cursor=cursor)

    def get(self, room_id: str) -> dict[str, Any]:
        return self._c.request("GET", f"/v1/rooms/{_q(room_id)}")

    def create(self, room: dict[str, Any]) -> dict[str, Any]:
        return self._c.request("POST", "/v1/rooms", json=room)

    def post(self, room_id: str, content: str) -> builtins.list[dict[str, Any]]:
        """Post a human message; the members reply in turn. Returns the new messages (yours first)."""
        return self._c.request("POST", f"/v1/rooms/{_q(room_id)}/messages", json={"content": content})["data"]

    def messages(self, room_id: str, *, limit: int | None = None, cursor: str | None = None) -> Page:
        return self._page(f"/v1/rooms/{_q(room_id)}/messages", limit=limit, cursor=cursor)

    def decide(self, room_id: str, *, method: str = "chair", question: str | None = None,
               decision: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"decision": decision} if decision is not None else {"method": method}
        if question is not None and decision is None:
            body["question"] = question
        return self._c.request("POST", f"/v1/rooms/{_q(room_id)}/decide", json=body)


class Tokens(_Listable):
    """``/v1/auth/tokens``: the tenant's tokens (never the tokens themselves) and revoking one (admin)."""

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> Page:
        return self._page("/v1/auth/tokens", limit=limit, cursor=cursor)

    def iterate(self) -> Iterator[dict[str, Any]]:
        return self._iterate("/v1/auth/tokens")

    def revoke(self, token_id: str) -> dict[str, Any]:
        return self._c.request("DELETE", f"/v1/auth/tokens/{_q(token_id)}")


class Channels(_Listable):
    """``/v1/channels`` (secrets are write-only)."""

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> Page:
        return self._page("/v1/channels", limit=limit, cursor=cursor)

    def get(self, binding_id: str) -> dict[str, Any]:
        return self._c.request("GET", f"/v1/channels/{_q(binding_id)}")

    def create(self, binding: dict[str, Any]) -> dict[str, Any]:
        return self._c.request("POST", "/v1/channels", json=binding)

    def update(self, binding_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self._c.request("PATCH", f"/v1/channels/{_q(binding_id)}", json=changes)

    def delete(self, binding_id: str) -> dict[str, Any]:
        return self._c.request("DELETE", f"/v1/channels/{_q(binding_id)}")

    def set_secret(self, binding_id: str, secret: str | None, *, name: str | None = None) -> dict[str, Any]:
        """Set (or with None remove) the binding's verifying secret, or the kind's secret ``name``."""
        body: dict[str, Any] = {"secret": secret}
        if name is not None:
            body["name"] = name
        return self._c.request("PUT", f"/v1/channels/{_q(binding_id)}/secret", json=body)

    def status(self) -> builtins.list[dict[str, Any]]:
        return self._c.request("GET", "/v1/channels/status").get("data", [])

    def test_routing(self, text: str, sender: str, *, binding_id: str | None = None,
                     kind: str | None = None) -> dict[str, Any]:
        body = {k: v for k, v in {"text": text, "sender": sender, "binding_id": binding_id, "kind": kind}.items()
                if v is not None}
        return self._c.request("POST", "/v1/channels/test-routing", json=body)


# --------------------------------------------------------------------------------- live events

class LiveEvents:
    """An open ``/ws`` connection: iterate it for event dicts; ``subscribe``/``unsubscribe`` more topics."""

    def __init__(self, opened: Any) -> None:
        self._opened = opened  # websockets' connect(): entered here, exited by close()
        self._ws = opened.__enter__()

    def _send(self, message: dict[str, Any]) -> None:
        self._ws.send(json.dumps(message))

    def subscribe(self, topics: list[str]) -> None:
        self._send({"type": "subscribe", "topics": list(topics)})

    def unsubscribe(self, topics: list[str]) -> None:
        self._send({"type": "unsubscribe", "topics": list(topics)})

    def ping(self) -> None:
        self._send({"type": "ping"})

    def receive(self, timeout: float | None = None) -> dict[str, Any]:
        """The next message from the server (``TimeoutError`` after ``timeout`` seconds)."""
        from websockets.exceptions import ConnectionClosed

        try:
            return json.loads(self._ws.recv(timeout=timeout))
        except ConnectionClosed as exc:
            raise ConnectionFailed(f"live events closed: {exc}") from None

    def events(self, timeout: float | None = None) -> Iterator[dict[str, Any]]:
        """Hub events only (``type == "event"``), until the connection closes."""
        while True:
            try:
                message = self.receive(timeout)
            except ConnectionFailed:
                return
            if message.get("type") == "event":
                yield message

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self.events()

    def close(self) -> None:
        self._opened.__exit__(None, None, None)

    def __enter__(self) -> "LiveEvents":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# ------------------------------------------------------------------------------------- client

class Client:
    """The Qorven Local API over HTTP; see the module docstring."""

    def __init__(self, server: str | None = None, token: str | None = None, *, timeout: float = 30.0,
                 home: str | os.PathLike | None = None) -> None:
        import httpx

        home_path = Path(home) if home else None
        self.server = (server or default_server(home_path)).rstrip("/")
        self.token = token if token is not None else default_token(home_path)
        headers = {"User-Agent": "qorven-client"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self._http = httpx.Client(base_url=self.server, headers=headers, timeout=timeout)
        self.agents = Agents(self)
        self.sessions = Sessions(self)
        self.messages = Messages(self)
        self.chat = Chat(self)
        self.memory = Memory(self)
        self.models = Models(self)
        self.providers = Providers(self)
        self.tools = Tools(self)
        self.rooms = Rooms(self)
        self.channels = Channels(self)
        self.tokens = Tokens(self)

    # -- plumbing
    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        """One request; the decoded JSON body, or a typed ``APIError`` / ``ConnectionFailed``."""
        import httpx

        try:
            res = self._http.request(method, path, json=json, params=params)
        except httpx.TransportError as exc:
            raise ConnectionFailed(f"cannot reach {self.server}: {exc}") from None
        if res.status_code >= 400:
            raise error_from_envelope(res.status_code, _json_or_text(res), res.headers.get("retry-after"))
        return _json_or_text(res) if res.content else {}

    def stream_events(self, path: str, body: dict[str, Any]) -> Generator[ChatEvent, None, None]:
        """POST ``body`` and yield the SSE answer as ChatEvents (errors typed, before or mid-stream)."""
        import httpx

        timeout = httpx.Timeout(self._http.timeout.connect, read=STREAM_READ_TIMEOUT)
        try:
            with self._http.stream("POST", path, json=body, timeout=timeout) as res:
                if res.status_code >= 400:
                    res.read()
                    raise error_from_envelope(res.status_code, _json_or_text(res), res.headers.get("retry-after"))
                if not res.headers.get("content-type", "").startswith("text/event-stream"):
                    res.read()  # a server that answered with one JSON object
                    yield ChatEvent("finish", res.json())
                    yield ChatEvent("done")
                    return
                yield from _chat_events(res.iter_lines(), res.status_code)
        except httpx.TransportError as exc:
            raise ConnectionFailed(f"stream from {self.server} broke: {exc}") from None

    def subscribe(self, topics: list[str] | None = None, *, timeout: float = 10.0) -> LiveEvents:
        """Open ``/ws`` (token in the subprotocol pair) and subscribe to ``topics``."""
        from websockets.exceptions import InvalidStatus, WebSocketException
        from websockets.sync.client import connect
        from websockets.typing import Subprotocol

        url = "ws" + self.server[len("http"):] + "/ws"
        protocols = [Subprotocol("qorven.v1")] + ([Subprotocol(f"token.{self.token}")] if self.token else [])
        try:
            live = LiveEvents(connect(url, subprotocols=protocols, open_timeout=timeout, max_size=2 ** 22))
        except InvalidStatus as exc:
            res = exc.response
            try:
                body = json.loads(res.body or b"{}")
            except ValueError:
                body = {}
            raise error_from_envelope(res.status_code, body, res.headers.get("Retry-After")) from None
        except (OSError, WebSocketException, TimeoutError) as exc:
            raise ConnectionFailed(f"cannot open live events at {url}: {exc}") from None
        if topics:
            live.subscribe(topics)
            while True:  # wait for the acknowledgement, so events published after this call are seen
                message = live.receive(timeout)
                if message.get("type") == "subscribed":
                    break
                if message.get("type") == "error":
                    live.close()
                    raise error_from_envelope(400, {"error": message})
        return live

    # -- system
    def health(self) -> dict[str, Any]:
        return self.request("GET", "/health")

    def ready(self) -> dict[str, Any]:
        """``/readyz``'s checks (never raises for 503: read ``status``)."""
        import httpx

        try:
            res = self._http.get("/readyz")
        except httpx.TransportError as exc:
            raise ConnectionFailed(f"cannot reach {self.server}: {exc}") from None
        return _json_or_text(res) if res.content else {"status": "unknown"}

    def settings(self) -> dict[str, Any]:
        return self.request("GET", "/v1/settings")

    def rotate_token(self, *, grace_seconds: int | None = None, label: str | None = None) -> dict[str, Any]:
        body = {k: v for k, v in {"grace_seconds": grace_seconds, "label": label}.items() if v is not None}
        return self.request("POST", "/v1/auth/rotate", json=body)

    def embeddings(self, texts: list[str] | str, model: str = "all-minilm-l6-v2") -> list[list[float]]:
        return self.memory.embed(texts, model)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _json_or_text(res: httpx.Response) -> Any:
    try:
        return res.json()
    except ValueError:
        return res.text

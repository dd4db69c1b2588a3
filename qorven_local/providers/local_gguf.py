"""The ``local`` provider kind: GGUF models run in-process with llama-cpp-python, fully offline.

    <data root>/models/*.gguf ──► list_models() (header only, no load)
    stream_chat ──► ModelPool.use(path) ──► worker thread: llm.create_chat_completion(stream=True)
                                            └─► parse_model_output(text pieces) ──► TextDelta | ToolCallDelta

- Loading is lazy; at most ``max_resident`` models stay loaded (the least recently used idle one is
  unloaded to make room) and a model unused for ``idle_seconds`` is unloaded by a janitor thread.
- Generation runs on a worker thread; ``cancel`` is checked between tokens, and the caller stops
  waiting at once (the worker finishes its current token and frees the model).
- Tool calls: the model's own chat template gets the tools; what it writes back is parsed by
  ``parse_model_output`` (Hermes/Qwen ``<tool_call>``, Mistral ``[TOOL_CALLS]``, Llama 3.1
  ``<|python_tag|>`` and bare ``{"name", "parameters"}`` JSON). Raw tool syntax never reaches content.
- llama-cpp-python is optional: without it the catalog still lists models (headers are read here)
  and chat answers a ProviderError saying how to add it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from qorven_local.errors import ProviderError, ValidationError
from qorven_local.providers.events import ChatEvent, ChatRequest, Finish, ModelInfo, TextDelta, ToolCallDelta
from qorven_local.providers.gguf_header import NotGGUF, describe, read_header

log = logging.getLogger("qorven.providers.local")

BASE_URL = "local:models"  # stored as the provider's base_url: the folder comes from the data root
INSTALL_HINT = ("local models need llama-cpp-python, which is not installed: "
                "pip install 'qorven-local[local]' (or `make local` in a source checkout)")


def runtime_available() -> bool:
    try:
        import llama_cpp  # noqa: F401
    except Exception:
        return False
    return True


@dataclass(frozen=True)
class LocalOptions:
    """Settings of the local kind (from config: local_max_models, local_idle_seconds, local_context)."""

    models_dir: Path
    max_resident: int = 1
    idle_seconds: float = 600.0
    n_ctx: int = 4096
    allowed_roots: tuple[Path, ...] = ()


# ---------------------------------------------------------------------------------------------
# Tool-call parsing: a pure function over the model's text pieces.

# (opening marker, closing marker or None = runs to the end of the output)
_MARKERS: tuple[tuple[str, str | None], ...] = (
    ("<tool_call>", "</tool_call>"),          # Hermes, Qwen 2.5/3, many fine-tunes
    ("[TOOL_CALLS]", None),                   # Mistral
    ("<|python_tag|>", None),                 # Llama 3.1+
    ("<function_call>", "</function_call>"),
)


def _call_objects(payload: str) -> list[dict[str, Any]] | None:
    """The {name, arguments} objects in a tool-call payload (one object, a list, or JSON lines)."""
    payload = payload.strip()
    if not payload:
        return None
    try:
        value = json.loads(payload)
    except ValueError:
        value = []
        for line in payload.replace(";", "\n").splitlines():
            if line.strip():
                try:
                    value.append(json.loads(line))
                except ValueError:
                    return None
    items = value if isinstance(value, list) else [value]
    calls = []
    for item in items:
        if not isinstance(item, dict):
            return None
        fn = item.get("function") if isinstance(item.get("function"), dict) else item
        name = fn.get("name")
        args = fn.get("arguments", fn.get("parameters", {}))
        if not isinstance(name, str) or not name:
            return None
        if isinstance(args, str):
            try:
                args = json.loads(args) if args.strip() else {}
            except ValueError:
                return None
        calls.append({"name": name, "arguments": args if args is not None else {}})
    return calls


def parse_model_output(pieces: Iterable[str], tool_names: Iterable[str] = (),
                       new_id: Callable[[], str] | None = None) -> Iterator[TextDelta | ToolCallDelta]:
    """Turn a model's streamed text into text and tool-call events; tool syntax never becomes text.

    Text is passed on as it comes, except a tail that could be the start of a marker (held until
    it is clear). A marker's payload is buffered and parsed when it closes (or at the end); a
    malformed payload is dropped (logged), never shown. With ``tool_names``, an answer that is only
    a JSON object naming one of those tools (Llama 3.1 without its python tag) is a call too.
    """
    new_id = new_id or (lambda: "call_" + uuid.uuid4().hex[:24])
    names = set(tool_names)
    opens = [m for m, _ in _MARKERS]
    buf = ""
    inside: tuple[str, str | None] | None = None
    payload = ""
    index = 0
    started = False      # any non-blank text passed on yet
    bare_json = False    # the answer began with '{' and tools were offered: hold it all

    def emit_calls(text: str) -> Iterator[ToolCallDelta]:
        nonlocal index
        calls = _call_objects(text)
        if calls is None:
            log.warning("dropped a malformed tool call from a local model (%d chars)", len(text))
            return
        for call in calls:
            yield ToolCallDelta(index=index, id=new_id(), name=call["name"],
                                arguments=json.dumps(call["arguments"], ensure_ascii=False))
            index += 1

    for piece in pieces:
        if not piece:
            continue
        if bare_json:
            payload += piece
            continue
        if inside is not None:
            payload += piece
            close = inside[1]
            if close is not None and close in payload:
                body, _, rest = payload.partition(close)
                yield from emit_calls(body)
                inside, payload, buf = None, "", rest
            else:
                continue
        else:
            buf += piece
        if names and not started and buf.lstrip().startswith("{"):
            bare_json, payload, buf = True, buf, ""
            continue
        while buf:
            hits = [(buf.find(m), m, c) for m, c in _MARKERS if m in buf]
            if hits:
                at, marker, close = min(hits)
                if at and buf[:at]:
                    started = started or bool(buf[:at].strip())
                    yield TextDelta(buf[:at])
                rest = buf[at + len(marker):]
                buf = ""
                if close is not None and close in rest:
                    body, _, buf = rest.partition(close)
                    yield from emit_calls(body)
                    continue
                inside, payload = (marker, close), rest
                break
            # hold back a tail that may be the start of a marker
            hold = max((k for m in opens for k in range(1, len(m)) if buf.endswith(m[:k])), default=0)
            out, buf = (buf[:-hold], buf[-hold:]) if hold else (buf, "")
            if out:
                if names and not started and not out.strip():
                    buf = out + buf  # leading blanks: wait to see whether a bare JSON call follows
                    break
                started = started or bool(out.strip())
                yield TextDelta(out)
            break
    if bare_json:
        calls = _call_objects(payload)
        if calls and all(c["name"] in names for c in calls):
            yield from emit_calls(payload)
        else:
            yield TextDelta(payload)  # plain JSON the user asked for, not a call
    elif inside is not None:
        yield from emit_calls(payload)  # unclosed: parse what came
    elif buf:
        yield TextDelta(buf)


# ---------------------------------------------------------------------------------------------
# Loaded models.


def load_llama(path: Path, n_ctx: int) -> Any:
    """The default loader: a llama_cpp.Llama for ``path`` (ProviderError when the runtime is missing)."""
    try:
        from llama_cpp import Llama
    except Exception:
        raise ProviderError(INSTALL_HINT, details={"kind": "local"}) from None
    try:
        return Llama(model_path=str(path), n_ctx=n_ctx, n_threads=max(1, (os.cpu_count() or 2)),
                     verbose=False)
    except Exception as exc:
        raise ProviderError(f"local model {path.name!r} failed to load: {exc}", details={"kind": "local"}) from None


class _Resident:
    def __init__(self, llm: Any) -> None:
        self.llm = llm
        self.users = 0
        self.last_used = time.monotonic()
        self.run_lock = threading.Lock()  # one generation at a time per loaded model


class ModelPool:
    """Loaded models by path: lazy load, at most ``max_resident``, idle unload by a janitor thread."""

    def __init__(self, loader: Callable[[Path, int], Any] = load_llama, *, max_resident: int = 1,
                 idle_seconds: float = 600.0) -> None:
        self.loader = loader
        self.max_resident = max(1, max_resident)
        self.idle_seconds = idle_seconds
        self._models: dict[str, _Resident] = {}
        self._cond = threading.Condition()
        self._janitor: threading.Thread | None = None
        self._closed = False

    def configure(self, max_resident: int, idle_seconds: float) -> None:
        with self._cond:
            self.max_resident, self.idle_seconds = max(1, max_resident), idle_seconds
            self._cond.notify_all()

    def loaded(self) -> list[str]:
        with self._cond:
            return list(self._models)

    def acquire(self, path: Path, n_ctx: int, timeout: float = 300.0) -> _Resident:
        key = str(path)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                entry = self._models.get(key)
                if entry is not None:
                    entry.users += 1
                    entry.last_used = time.monotonic()
                    return entry
                if len(self._models) < self.max_resident or self._evict_one():
                    break
                if time.monotonic() > deadline:
                    raise ProviderError(f"every loaded local model is busy (max {self.max_resident} resident)",
                                        details={"kind": "local"})
                self._cond.wait(0.5)
            self._models[key] = entry = _Resident(None)  # reserve the slot while loading
            entry.users = 1
        try:
            started = time.perf_counter()
            entry.llm = self.loader(path, n_ctx)
            log.info("loaded local model %s in %.0f ms", path.name, (time.perf_counter() - started) * 1000)
        except BaseException:
            with self._cond:
                self._models.pop(key, None)
                self._cond.notify_all()
            raise
        self._start_janitor()
        return entry

    def release(self, entry: _Resident) -> None:
        with self._cond:
            entry.users -= 1
            entry.last_used = time.monotonic()
            self._cond.notify_all()

    def _evict_one(self) -> bool:
        """Unload the least recently used idle model (lock held); False when all are busy."""
        idle = [(e.last_used, k) for k, e in self._models.items() if e.users == 0 and e.llm is not None]
        if not idle:
            return False
        _, key = min(idle)
        _unload(self._models.pop(key), key)
        return True

    def sweep(self) -> list[str]:
        """Unload models idle for longer than ``idle_seconds``; returns their paths."""
        now = time.monotonic()
        with self._cond:
            stale = [k for k, e in self._models.items()
                     if e.users == 0 and e.llm is not None and now - e.last_used >= self.idle_seconds]
            for key in stale:
                _unload(self._models.pop(key), key)
            if stale:
                self._cond.notify_all()
        return stale

    def _start_janitor(self) -> None:
        with self._cond:
            if self._janitor is not None and self._janitor.is_alive():
                return
            self._janitor = threading.Thread(target=self._run_janitor, name="local-model-janitor", daemon=True)
            self._janitor.start()

    def _run_janitor(self) -> None:
        while True:
            with self._cond:
                if self._closed or not self._models:
                    self._janitor = None
                    return
                interval = min(5.0, max(0.05, self.idle_seconds / 4))
            time.sleep(interval)
            self.sweep()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            for key in [k for k, e in self._models.items() if e.users == 0 and e.llm is not None]:
                _unload(self._models.pop(key), key)


def _unload(entry: _Resident, key: str) -> None:
    try:
        close = getattr(entry.llm, "close", None)
        if close is not None:
            close()
    except Exception:
        log.debug("closing local model %s failed", key, exc_info=True)
    entry.llm = None
    log.info("unloaded local model %s", Path(key).name)


_SHARED_POOL: ModelPool | None = None
_SHARED_LOCK = threading.Lock()


def shared_pool(options: LocalOptions) -> ModelPool:
    """The process-wide pool, so the resident limit holds across local providers."""
    global _SHARED_POOL
    with _SHARED_LOCK:
        if _SHARED_POOL is None:
            _SHARED_POOL = ModelPool(max_resident=options.max_resident, idle_seconds=options.idle_seconds)
        else:
            _SHARED_POOL.configure(options.max_resident, options.idle_seconds)
        return _SHARED_POOL


# ---------------------------------------------------------------------------------------------
# The provider.

_TOOL_PROMPT = (
    "You can call these tools. To call one, answer with exactly\n"
    "<tool_call>{{\"name\": \"<tool name>\", \"arguments\": {{...}}}}</tool_call>\n"
    "and nothing else. Tools:\n{tools}"
)


def _with_tool_prompt(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages with the tools described in a system message (for templates that ignore ``tools``)."""
    text = _TOOL_PROMPT.format(tools="\n".join(json.dumps(t.get("function", t)) for t in tools))
    if messages and messages[0].get("role") == "system":
        first = dict(messages[0])
        first["content"] = f"{first.get('content') or ''}\n\n{text}".strip()
        return [first, *messages[1:]]
    return [{"role": "system", "content": text}, *messages]


def _plain_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages most GGUF templates can render: content as text, tool results as text."""
    out = []
    for m in messages:
        m = dict(m)
        content = m.get("content")
        if isinstance(content, list):  # content parts → text
            m["content"] = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        elif content is None:
            m["content"] = ""
        if m.get("tool_calls"):
            calls = "".join(
                "<tool_call>" + json.dumps({"name": c.get("function", {}).get("name"),
                                            "arguments": _json_or_text(c.get("function", {}).get("arguments"))})
                + "</tool_call>" for c in m["tool_calls"])
            m["content"] = (m["content"] or "") + calls
        out.append(m)
    return out


def _json_or_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class LocalGGUFProvider:
    """A provider whose models are the GGUF files of one folder."""

    kind = "local"

    def __init__(self, *, name: str = "local", options: LocalOptions, pool: ModelPool | None = None) -> None:
        self.name = name
        self.options = options
        self.base_url = BASE_URL
        self.pool = pool if pool is not None else shared_pool(options)
        self._headers: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<LocalGGUFProvider {self.name!r} {self.options.models_dir}>"

    # -- models ---------------------------------------------------------------------------------
    def _files(self) -> list[Path]:
        folder = self.options.models_dir
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".gguf" and p.is_file())

    def describe(self, model: str) -> dict[str, Any] | None:
        """Size, quantisation, context length and file of one model (None when it is not there)."""
        path = self.path_of(model)
        if path is None:
            return None
        st = path.stat()
        stamp = (st.st_size, st.st_mtime_ns)
        with self._lock:
            cached = self._headers.get(str(path))
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            info = describe(read_header(path))
        except (NotGGUF, OSError) as exc:
            info = {"error": str(exc)}
        info = {**info, "size_bytes": st.st_size, "file": path.name}
        with self._lock:
            self._headers[str(path)] = (stamp, info)
        return info

    def path_of(self, model: str) -> Path | None:
        if not model or "/" in model or "\\" in model or model.startswith("."):
            return None
        path = self.options.models_dir / (model if model.lower().endswith(".gguf") else model + ".gguf")
        return path if path.is_file() else None

    def list_models(self) -> list[ModelInfo]:
        out = []
        for path in self._files():
            info = self.describe(path.stem) or {}
            if "error" in info:
                log.warning("skipping %s: %s", path.name, info["error"])
                continue
            out.append(ModelInfo(id=path.stem, owned_by="local", context_length=info.get("context_length")))
        return out

    def check(self) -> dict[str, Any]:
        started = time.perf_counter()
        if self.pool.loader is load_llama and not runtime_available():
            raise ProviderError(INSTALL_HINT, details={"provider": self.name, "kind": "local"})
        models = self.list_models()
        return {"ok": True, "provider": self.name, "kind": self.kind, "host": "local", "models": len(models),
                "latency_ms": round((time.perf_counter() - started) * 1000, 1)}

    def close(self) -> None:
        pass  # the pool outlives adapters; its janitor unloads idle models

    # -- chat -----------------------------------------------------------------------------------
    def stream_chat(self, request: ChatRequest, cancel: threading.Event | None = None) -> Iterator[ChatEvent]:
        path = self.path_of(request.model)
        if path is None:
            raise ProviderError(f"provider {self.name!r} (local) has no model {request.model!r} in "
                                f"{self.options.models_dir}", details={"provider": self.name})
        cancel = cancel or threading.Event()
        n_ctx = self.options.n_ctx
        ctx_len = (self.describe(request.model) or {}).get("context_length")
        if isinstance(ctx_len, int) and ctx_len > 0:
            n_ctx = min(n_ctx, ctx_len)
        entry = self.pool.acquire(path, n_ctx)
        out: queue.Queue = queue.Queue()
        stop = threading.Event()
        worker = threading.Thread(target=self._generate, args=(entry, request, out, stop, cancel),
                                  name=f"local-gen-{path.stem}"[:40], daemon=True)
        worker.start()
        state: dict[str, Any] = {}
        try:
            pieces = self._drain(out, cancel, state)
            names = [t.get("function", {}).get("name") for t in request.tools or [] if isinstance(t, dict)]
            calls = 0
            finish = "stop"
            for event in parse_model_output(pieces, [n for n in names if n]):
                if type(event) is ToolCallDelta:
                    calls += 1
                yield event
            if cancel.is_set():
                return
            yield Finish("tool_calls" if calls else state.get("finish") or finish)
        finally:
            stop.set()  # the worker stops at its next token and releases the model

    def _drain(self, out: queue.Queue, cancel: threading.Event, state: dict[str, Any]) -> Iterator[str]:
        while True:
            try:
                kind, value = out.get(timeout=0.05)
            except queue.Empty:
                if cancel.is_set():
                    return
                continue
            if cancel.is_set():
                return
            if kind == "text":
                yield value
            elif kind == "finish":
                state["finish"] = value
                return
            elif kind == "error":
                raise value

    def _generate(self, entry: _Resident, request: ChatRequest, out: queue.Queue, stop: threading.Event,
                  cancel: threading.Event) -> None:
        try:
            with entry.run_lock:
                entry.last_used = time.monotonic()
                if stop.is_set() or cancel.is_set():
                    return
                messages = _plain_messages(request.messages)
                kwargs: dict[str, Any] = {"stream": True}
                if request.tools:
                    template = str(getattr(entry.llm, "metadata", {}).get("tokenizer.chat_template", ""))
                    if "tools" in template:
                        kwargs["tools"] = request.tools
                    else:
                        messages = _with_tool_prompt(messages, request.tools)
                if request.temperature is not None:
                    kwargs["temperature"] = request.temperature
                if request.max_tokens:
                    kwargs["max_tokens"] = request.max_tokens
                if request.stop:
                    kwargs["stop"] = request.stop
                for key in ("top_p", "seed", "presence_penalty", "frequency_penalty", "top_k"):
                    if key in request.extra:
                        kwargs[key] = request.extra[key]
                stream = entry.llm.create_chat_completion(messages=messages, **kwargs)
                reason = None
                try:
                    for chunk in stream:
                        if stop.is_set() or cancel.is_set():
                            break
                        choice = (chunk.get("choices") or [{}])[0]
                        text = (choice.get("delta") or {}).get("content")
                        if text:
                            out.put(("text", text))
                        reason = choice.get("finish_reason") or reason
                finally:
                    close = getattr(stream, "close", None)
                    if close is not None:
                        close()
                out.put(("finish", reason if reason in ("stop", "length") else "stop"))
        except ProviderError as exc:
            out.put(("error", exc))
        except Exception as exc:  # llama.cpp errors (context overflow, template errors)
            log.warning("local generation failed", exc_info=True)
            out.put(("error", ProviderError(f"provider {self.name!r} (local) failed: {exc}"[:600],
                                            details={"provider": self.name})))
        finally:
            self.pool.release(entry)


# ---------------------------------------------------------------------------------------------
# Importing a model file into the models folder.


def default_allowed_roots(home: Path) -> tuple[Path, ...]:
    """Where imports may come from: the user's home folder and the data root."""
    roots = [Path(home)]
    try:
        roots.append(Path.home())
    except RuntimeError:
        pass
    return tuple(roots)


def check_import_source(path: Any, allowed_roots: Iterable[Path]) -> Path:
    """The real path of an importable GGUF file, or ValidationError (param ``path``) saying why not.

    The real path (symlinks resolved) must be a regular file under an allowed root, so a link in
    the home folder pointing elsewhere is refused like the target itself would be.
    """
    if not isinstance(path, str) or not path.strip():
        raise ValidationError("path must be a non-empty string", param="path")
    raw = Path(path.strip()).expanduser()
    if not raw.is_absolute():
        raise ValidationError("path must be absolute", param="path")
    try:
        real = raw.resolve(strict=True)
    except (OSError, RuntimeError):
        raise ValidationError(f"no such file: {raw}", param="path") from None
    roots = [Path(r).resolve() for r in allowed_roots]
    if not any(real.is_relative_to(r) for r in roots):
        raise ValidationError(f"{raw} is outside the folders models may be imported from "
                              f"({', '.join(str(r) for r in roots)})", param="path")
    if not real.is_file():
        raise ValidationError(f"{raw} is not a regular file", param="path")
    try:
        read_header(real)
    except NotGGUF as exc:
        raise ValidationError(f"{raw.name} is not a GGUF model: {exc}", param="path") from None
    except OSError as exc:
        raise ValidationError(f"{raw.name} cannot be read: {exc.strerror}", param="path") from None
    return real


def import_model(path: Any, options: LocalOptions,
                 progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Copy a GGUF file into the models folder (via a temp file, renamed when complete).

    Returns {model, file, size_bytes, sha256}; ``progress(copied, total)`` is called per chunk.
    """
    src = check_import_source(path, options.allowed_roots)
    folder = options.models_dir
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / (src.stem + ".gguf")
    if dest.exists() and dest.resolve() == src:
        raise ValidationError(f"{src.name} is already in the models folder", param="path")
    total = src.stat().st_size
    digest = hashlib.sha256()
    tmp = folder / f".{dest.name}.{uuid.uuid4().hex[:8]}.part"
    copied = 0
    try:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            while True:
                chunk = fin.read(4 * 1024 * 1024)
                if not chunk:
                    break
                digest.update(chunk)
                fout.write(chunk)
                copied += len(chunk)
                if progress is not None:
                    progress(copied, total)
            fout.flush()
            os.fsync(fout.fileno())
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    if progress is not None and total == 0:
        progress(0, 0)
    return {"model": dest.stem, "file": dest.name, "size_bytes": copied, "sha256": digest.hexdigest()}

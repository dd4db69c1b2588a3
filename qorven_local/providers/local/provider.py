"""The local kind's adapter: a provider whose models are the GGUF files of one folder.

Generation runs on a worker thread; ``cancel`` is checked between tokens, and the caller stops
waiting at once (the worker finishes its current token and frees the model). The model's own chat
template gets the tools; templates that ignore them get the tools described in a system message.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterator

from qorven_local.errors import ProviderError, QorvenError, ValidationError
from qorven_local.providers.events import ChatEvent, ChatRequest, Finish, ModelInfo, ToolCallDelta, Usage
from qorven_local.providers.local.gguf_header import NotGGUF, describe, read_header
from qorven_local.providers.local.options import BASE_URL, LocalOptions, runtime_available, runtime_hint
from qorven_local.providers.local.defaults import generation_defaults
from qorven_local.providers.local.parser import parse_model_output
from qorven_local.providers.local.pool import LoadedModel, ModelPool, load_llama, shared_pool
from qorven_local.providers.local.starter import is_starter
from qorven_local.providers.text_completion import CompletionEvent, CompletionPiece, CompletionRequest

log = logging.getLogger("qorven.providers.local")

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


def halting(llm: Any, halt: Callable[[], bool]) -> Any:
    """A llama.cpp logits processor that forces the end-of-sequence token once ``halt()`` is true.

    A cancel must end a generation at its next token. Checking between streamed chunks is not enough:
    llama.cpp withholds text that may begin a stop string or an unfinished character, and a model can
    go on for hundreds of tokens without a chunk while it holds the model (seen with a random-weight
    model: the next request waited for ``max_tokens`` to run out). None when the model has no EOS.
    """
    eos = llm.token_eos() if hasattr(llm, "token_eos") else -1
    if eos is None or eos < 0:
        return None
    from llama_cpp import LogitsProcessorList  # the runtime is there: llm is one of its models

    def process(input_ids: Any, scores: Any) -> Any:
        if halt():
            scores[:] = float("-inf")
            scores[eos] = 0.0
        return scores
    return LogitsProcessorList([process])


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
    def _files(self) -> dict[str, Path]:
        """Model name → file: the GGUFs in the models folder, then installed starter models (a file in
        the folder wins a name clash)."""
        files: dict[str, Path] = {}
        folder = self.options.models_dir
        if folder.is_dir():
            files = {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() == ".gguf" and p.is_file()}
        for starter in self.options.starters:
            files.setdefault(starter.model, starter.path)
        return files

    def describe(self, model: str) -> dict[str, Any] | None:
        """Size, quantisation, context length, parameters and file of one model (None when it is not there)."""
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
        info = {**info, "size_bytes": st.st_size, "file": path.name, "starter": is_starter(model)}
        with self._lock:
            self._headers[str(path)] = (stamp, info)
        return info

    def path_of(self, model: str) -> Path | None:
        if not model or "/" in model or "\\" in model or model.startswith("."):
            return None
        path = self.options.models_dir / (model if model.lower().endswith(".gguf") else model + ".gguf")
        if path.is_file():
            return path
        starter = next((s.path for s in self.options.starters if s.model == model), None)
        return starter if starter is not None and starter.is_file() else None

    def list_models(self) -> list[ModelInfo]:
        out = []
        for name, path in self._files().items():
            info = self.describe(name) or {}
            if "error" in info:
                log.warning("skipping %s: %s", path.name, info["error"])
                continue
            out.append(ModelInfo(id=name, owned_by="local", context_length=info.get("context_length")))
        return out

    def check(self) -> dict[str, Any]:
        started = time.perf_counter()
        if self.pool.loader is load_llama and not runtime_available():
            raise ProviderError(runtime_hint(), details={"provider": self.name, "kind": "local"})
        models = self.list_models()
        return {"ok": True, "provider": self.name, "kind": self.kind, "host": "local", "models": len(models),
                "latency_ms": round((time.perf_counter() - started) * 1000, 1)}

    def close(self) -> None:
        pass  # the pool outlives adapters; its janitor unloads idle models

    # -- generation -----------------------------------------------------------------------------
    def _start(self, model: str, produce: Callable[[Any, Callable[[], bool]], Iterator[dict[str, Any]]],
               pick: Callable[[dict[str, Any]], Any], cancel: threading.Event) -> tuple[queue.Queue, threading.Event]:
        """Run ``produce(llm, halt)`` (a llama.cpp stream; ``halt()`` tells it to end at its next token) for
        ``model`` on a worker thread; its picked pieces, then its finish, arrive on the returned queue.
        Setting the returned event stops the worker."""
        entry = self._acquire(model)
        out: queue.Queue = queue.Queue()
        stop = threading.Event()
        worker = threading.Thread(target=self._generate, args=(entry, produce, pick, out, stop, cancel),
                                  name=f"local-gen-{model}"[:40], daemon=True)
        worker.start()
        return out, stop

    def _acquire(self, model: str, timeout: float = 300.0) -> LoadedModel:
        """The pool's entry for ``model``, loaded with the context the options and the file allow (waits up
        to ``timeout`` seconds for a busy pool to free a slot)."""
        path = self.path_of(model)
        if path is None:
            raise ProviderError(f"provider {self.name!r} (local) has no model {model!r} in "
                                f"{self.options.models_dir}", details={"provider": self.name})
        n_ctx = self.options.n_ctx
        ctx_len = (self.describe(model) or {}).get("context_length")
        if isinstance(ctx_len, int) and ctx_len > 0:
            n_ctx = min(n_ctx, ctx_len)
        return self.pool.acquire(path, n_ctx, timeout)

    def preload(self, model: str) -> None:
        """Load ``model`` into the pool now (it stays until idle for the pool's idle time), so the next
        request does not wait for the load. ProviderError when it is not there, does not load, or every
        slot is busy with a request (a preload never waits for one)."""
        self.pool.release(self._acquire(model, timeout=0))

    # -- chat -----------------------------------------------------------------------------------
    def stream_chat(self, request: ChatRequest, cancel: threading.Event | None = None) -> Iterator[ChatEvent]:
        cancel = cancel or threading.Event()
        out, stop = self._start(request.model, lambda llm, halt: self._chat_stream(llm, request, halt),
                                lambda choice: (choice.get("delta") or {}).get("content"), cancel)
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

    @staticmethod
    def _chat_stream(llm: Any, request: ChatRequest, halt: Callable[[], bool]) -> Iterator[dict[str, Any]]:
        messages = _plain_messages(request.messages)
        template = str(getattr(llm, "metadata", {}).get("tokenizer.chat_template", ""))
        kwargs: dict[str, Any] = {"stream": True, **generation_defaults(template, request)}
        if (processor := halting(llm, halt)) is not None:
            kwargs["logits_processor"] = processor
        if request.tools:
            if "tools" in template:
                kwargs["tools"] = request.tools
            else:
                messages = _with_tool_prompt(messages, request.tools)
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        for key in ("top_p", "seed", "presence_penalty", "frequency_penalty", "top_k", "repeat_penalty"):
            if key in request.extra:
                kwargs[key] = request.extra[key]
        return llm.create_chat_completion(messages=messages, **kwargs)

    # -- text completions -----------------------------------------------------------------------
    def stream_completion(self, request: CompletionRequest,
                          cancel: threading.Event | None = None) -> Iterator[CompletionEvent]:
        """llama.cpp's own completion, one prompt after another (choice index = prompt position).

        ``suffix`` runs fill-in-the-middle on models with FIM tokens (else a ``validation_error``);
        ``echo`` repeats the prompt first. Usage counts the prompt's tokens and the streamed pieces.
        """
        if request.n != 1:
            raise ValidationError("only n=1 is supported on local models", param="n")
        if request.logprobs is not None:
            raise ValidationError("logprobs is not supported on local models (they are loaded without "
                                  "per-token logits)", param="logprobs")
        cancel = cancel or threading.Event()
        counts = [0, 0]
        for index, prompt in enumerate(request.prompts):
            if request.echo:
                yield CompletionPiece(index, prompt)
            if request.max_tokens == 0:  # OpenAI's "echo only"; llama.cpp would take 0 as "until the context ends"
                yield CompletionPiece(index, finish_reason="length")
                continue
            state: dict[str, Any] = {}
            out, stop = self._start(request.model, partial(self._completion_stream, request=request, prompt=prompt,
                                                           state=state),
                                    lambda choice: choice.get("text") or None, cancel)
            try:
                for text in self._drain(out, cancel, state):
                    counts[1] += 1  # a piece a sampled token (multi-byte characters may join a few)
                    yield CompletionPiece(index, text)
            finally:
                stop.set()
            if cancel.is_set():
                return
            counts[0] += state.get("prompt_tokens", 0)
            yield CompletionPiece(index, finish_reason=state.get("finish") or "stop")
        yield Usage(counts[0], counts[1])

    @staticmethod
    def _completion_stream(llm: Any, halt: Callable[[], bool], *, request: CompletionRequest, prompt: str,
                           state: dict[str, Any]) -> Iterator[dict[str, Any]]:
        bos = llm.tokenize(b"", add_bos=True, special=False)  # [BOS], or [] for models without one
        tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=False)
        if request.suffix is not None:
            # llama-cpp-python's own suffix handling uses placeholder token ids: build the FIM prompt here.
            model = getattr(llm, "_model", None)
            fim = [model.token_prefix(), model.token_suffix(), model.token_middle()] if model is not None else [-1]
            if min(fim) < 0:
                raise ValidationError(f"suffix (fill-in-the-middle) is not supported: model {request.model!r} "
                                      "has no fill-in-the-middle tokens", param="suffix")
            suffix = llm.tokenize(request.suffix.encode("utf-8"), add_bos=False, special=False)
            tokens = [fim[0], *tokens, fim[1], *suffix, fim[2]]
        tokens = bos + tokens
        state["prompt_tokens"] = len(tokens)
        kwargs: dict[str, Any] = {k: v for k, v in request.options().items() if k != "logprobs"}
        kwargs.update({k: v for k, v in request.extra.items() if k in ("presence_penalty", "frequency_penalty",
                                                                         "top_k")})
        if (processor := halting(llm, halt)) is not None:
            kwargs["logits_processor"] = processor
        return llm.create_completion(prompt=tokens, stream=True, **kwargs)

    def _drain(self, out: queue.Queue, cancel: threading.Event, state: dict[str, Any]) -> Iterator[Any]:
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

    def _generate(self, entry: LoadedModel, produce: Callable[[Any, Callable[[], bool]], Iterator[dict[str, Any]]],
                  pick: Callable[[dict[str, Any]], Any], out: queue.Queue, stop: threading.Event,
                  cancel: threading.Event) -> None:
        try:
            with entry.run_lock:
                entry.last_used = time.monotonic()
                if stop.is_set() or cancel.is_set():
                    return
                stream = produce(entry.llm, lambda: stop.is_set() or cancel.is_set())
                reason = None
                try:
                    for chunk in stream:
                        if stop.is_set() or cancel.is_set():
                            break
                        choice = (chunk.get("choices") or [{}])[0]
                        piece = pick(choice)
                        if piece:
                            out.put(("text", piece))
                        reason = choice.get("finish_reason") or reason
                finally:
                    close = getattr(stream, "close", None)
                    if close is not None:
                        close()
                out.put(("finish", reason if reason in ("stop", "length") else "stop"))
        except QorvenError as exc:  # ProviderError, or a request the model cannot serve (ValidationError)
            out.put(("error", exc))
        except Exception as exc:  # llama.cpp errors (context overflow, template errors)
            log.warning("local generation failed", exc_info=True)
            out.put(("error", ProviderError(f"provider {self.name!r} (local) failed: {exc}"[:600],
                                            details={"provider": self.name})))
        finally:
            self.pool.release(entry)

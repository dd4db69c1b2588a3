"""Schemathesis against our own /openapi.json, in-process through the WSGI app.

Every operation (webhooks aside: they are signed, see test_webhooks_unsigned.py) is fuzzed with
schema-valid and schema-breaking inputs in all of schemathesis' phases (examples, coverage, fuzzing,
stateful), with a fixed seed and a bounded number of examples per operation. Checks: no 5xx but the
documented upstream ones, the status code, content type and body of every response are the ones the
document promises, auth is never ignored, invalid data is never accepted and valid data is accepted
unless its validity is semantic (an opaque cursor, a tool that does not exist).

A failure here is either a product bug or a wrong schema: fix whichever it is, never the check.
The figures of the last run land in test-output/robustness/fuzz.json.
"""

from __future__ import annotations

import collections
import json
import logging
import time
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis", minversion="4.3")  # test extra: schemathesis>=4.3,<5
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema
from schemathesis.generation import GenerationMode
from schemathesis.transport.wsgi import WSGITransport
from werkzeug.test import Client

from qorven_local.bootstrap import build_context, ensure_admin_token
from qorven_local.config import load_config
from qorven_local.mcp.connections import McpConnectionError, McpConnections
from qorven_local.web.app import create_app
from tests.fakes import FakeProvider
from tests.support.loopback_only import loopback_only
from tests.support.servers import TEST_LIMITS

SEED = 20261128
EXAMPLES_PER_OPERATION = 6
WEBHOOKS = r"^/v1/webhooks/"
SENTINEL = "Bearer FUZZ-ADMIN"   # replaced by the live admin token (the fuzzer may rotate it)
FAKE_KEY = "sk-fuzz-0123456789abcdef"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "robustness" / "fuzz.json"

# 5xx the contract documents for upstream or capacity trouble; anything else (500 above all) is a bug
DOCUMENTED_SERVER_ERRORS = {
    502: {"provider_error"}, 503: {"no_model_configured", "too_many_runs", "not_ready"}, 504: {"provider_timeout"},
}
# request fields whose validity no schema can express: they must name something that exists (an id, a
# model, a tool), be a cursor this server issued, or fit a rule that depends on another field (a
# channel's config keys depend on its kind; a base_url must parse as an http(s) URL with a host; a model
# import's path must be an existing GGUF file in an allowed folder)
SEMANTIC_PARAMS = {"cursor", "tools", "model", "agent_id", "session_id", "binding_id", "members", "chair_agent_id",
                   "kind", "base_url", "path", "url", "command"}   # an MCP server: url for http, command for stdio
SEMANTIC_PREFIXES = ("models.", "routing.", "config.")

# Checks whose expectation the contract overrides, each matched narrowly so that any other failure of
# the same operation still fails the test.
KNOWN_ISSUES = [
    # the contract, not a bug: DELETE /v1/sessions/{id} archives (API.md, Sessions), so the session
    # stays readable with status "archived" and its messages are kept
    ("GET /v1/sessions/{session_id}", "use_after_free", lambda case, error: True),
    # the MCP transport, not a bug: a message other than initialize without its Mcp-Session-Id header is
    # 400 (the header is not a parameter the operation declarations can express)
    ("POST /mcp", "valid_data_is_accepted", lambda case, error: "Mcp-Session-Id" in str(error.get("message"))),
    ("DELETE /mcp", "valid_data_is_accepted", lambda case, error: "Mcp-Session-Id" in str(error.get("message"))),
    # the contract, not a bug: a model id naming an agent (the fuzzer creates agents named like "0") runs
    # once, so n > 1 is refused with 400 naming n (API.md, Chat: agents answer as one run)
    ("POST /v1/chat/completions", "valid_data_is_accepted",
     lambda case, error: error.get("param") == "n" and str(error.get("message")).startswith("n > 1 is not supported for agents")),
    # the fuzzer, not a bug: its coverage phase encodes a binary `file` beside a text field so that the body
    # carries no part named `file` (seen: "the form has no file", or the PNG's bytes in a text field);
    # real multipart clients' uploads are accepted (tests/documents, tests/ui/test_documents.py)
    ("POST /v1/documents", "valid_data_is_accepted",
     lambda case, error: error.get("message") in ("the form has no file: send it in the field named file",
                                                  "invalid text or charset: utf-8")),
]


class _NoChildProcesses(McpConnections):
    """The fuzzer's random MCP server commands and URLs are never started or reached (it runs as the tester)."""

    def list_tools(self, endpoint, timeout):
        raise McpConnectionError("MCP servers are not started under the fuzzer")

    def call_tool(self, endpoint, tool, arguments, timeout):
        raise McpConnectionError("MCP servers are not started under the fuzzer")


def _known(label: str, check: str, case, error: dict) -> bool:
    return any(label == op and check == name and matches(case, error) for op, name, matches in KNOWN_ISSUES)


CONFIG = {
    "seed": SEED,
    "headers": {"Authorization": SENTINEL},
    "generation": {"mode": "all", "deterministic": True, "max-examples": EXAMPLES_PER_OPERATION},
    "checks": {
        "enabled": True,
        # upstream trouble has documented 5xx codes; only_documented_server_errors holds them to those
        "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "502", "503", "504"]},
        # a body past 1 MiB is refused by its size before its shape is looked at
        "negative_data_rejection": {"expected-statuses": ["400", "401", "403", "404", "405", "409", "413",
                                                          "415", "422", "429"]},
        # replaced by valid_data_is_accepted below, which knows the semantic fields
        "positive_data_acceptance": {"enabled": False},
    },
    "workers": 1,
}


def _error_of(response) -> dict:
    try:
        body = json.loads(response.content or b"{}")
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


@schemathesis.check
def only_documented_server_errors(ctx, response, case):
    """A 5xx must be one of the contract's upstream/capacity errors, never a 500."""
    if response.status_code >= 500:
        code = _error_of(response).get("code")
        allowed = DOCUMENTED_SERVER_ERRORS.get(response.status_code, set())
        if case.operation.path == "/readyz" and response.status_code == 503:
            return None
        assert code in allowed, f"{response.status_code} {code!r} is not a documented server error"
    return None


@schemathesis.check
def valid_data_is_accepted(ctx, response, case):
    """Schema-valid input is not refused, unless it names something that does not exist."""
    meta = case.meta
    if meta is None or meta.generation.mode is not GenerationMode.POSITIVE:
        return None
    status = response.status_code
    if status < 400 or status in (401, 403, 404, 409, 429) or status >= 500:
        return None
    documented_ok = min(int(s) for s in case.operation.responses.status_codes if s.isdigit())
    if status == documented_ok:  # /ws answers a plain GET with its documented 426
        return None
    error = _error_of(response)
    param = str(error.get("param"))
    if status == 400 and (param in SEMANTIC_PARAMS or param.startswith(SEMANTIC_PREFIXES)):
        return None
    if status == 422 and error.get("code") == "invalid_arguments":  # each tool's own argument schema
        return None
    raise AssertionError(f"schema-valid request refused with {status}: {error.get('code')} "
                         f"(param {error.get('param')!r}): {str(error.get('message'))[:200]}")


def _patch_wsgi_transport(monkeypatch) -> None:
    """schemathesis' auth probe hands socket-only options to werkzeug's in-process client: drop them."""
    original = WSGITransport.send

    def send(self, case, *, session=None, **kwargs):
        for name in ("max_redirects", "verify", "cert", "proxies"):
            kwargs.pop(name, None)
        return original(self, case, session=session, **kwargs)
    monkeypatch.setattr(WSGITransport, "send", send)


class LiveToken:
    """WSGI wrapper: swap the sentinel for the current admin token; follow rotations the fuzzer makes."""

    def __init__(self, app, token: str) -> None:
        self.app = app
        self.token = token

    def __call__(self, environ, start_response):
        if environ.get("HTTP_AUTHORIZATION") == SENTINEL:
            environ["HTTP_AUTHORIZATION"] = "Bearer " + self.token
        status_line = []

        def capture(status, headers, exc_info=None):
            status_line.append(status)
            return start_response(status, headers, exc_info)
        body = b"".join(self.app(environ, capture))
        if environ.get("PATH_INFO", "").endswith("/auth/rotate") and status_line[0].startswith("201"):
            self.token = json.loads(body)["token"]
        return [body]


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory):
    """The app on a temp data root, the fake provider as its default model, outbound traffic on loopback."""
    home = tmp_path_factory.mktemp("fuzz-home")
    config = load_config({**TEST_LIMITS, "home": str(home)}, env={})
    with loopback_only(), FakeProvider(api_key=FAKE_KEY) as fake:
        ctx = build_context(config)
        ctx.mcp.connections = _NoChildProcesses(config.logs_dir)
        token = ensure_admin_token(ctx)
        app = LiveToken(create_app(ctx), token)
        api = Client(app)
        auth = {"Authorization": SENTINEL}
        provider = api.post("/v1/providers", headers=auth, json={"name": "fake", "kind": "openai_compatible",
                                                                 "base_url": fake.base_url})
        assert provider.status_code == 201, provider.text
        pid = provider.json["id"]
        assert api.put(f"/v1/providers/{pid}/keys", headers=auth, json={"key": FAKE_KEY}).status_code == 200
        assert api.put("/v1/models/default", headers=auth, json={"model": "fake/fake-model"}).status_code == 200
        yield app, home
        ctx.db.close()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_every_operation_holds_its_contract(fuzz_target, monkeypatch, caplog):
    app, home = fuzz_target
    caplog.set_level(logging.ERROR, logger="qorven")
    _patch_wsgi_transport(monkeypatch)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app, config=SchemathesisConfig.from_dict(CONFIG))
    schema = schema.exclude(path_regex=WEBHOOKS)
    operations = sorted(op.ok().label for op in schema.get_all_operations())
    failures: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    errors: list[str] = []
    known: collections.Counter = collections.Counter()
    phases: collections.Counter = collections.Counter()
    cases = 0
    started = time.monotonic()
    with loopback_only():
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                phases[event.phase.value] += 1
                cases += len(event.recorder.cases)
                for case_id, checks in event.recorder.checks.items():
                    for check in checks:
                        if check.status != Status.FAILURE:
                            continue
                        case = event.recorder.cases[case_id].value
                        interaction = event.recorder.interactions.get(case_id)
                        response = interaction.response if interaction else None
                        failure = check.failure_info.failure if check.failure_info else None
                        if response is not None and _known(case.operation.label, check.name, case,
                                                           _error_of(response)):
                            known[f"{case.operation.label} :: {check.name}"] += 1
                            continue
                        failures[(case.operation.label, check.name)].append(
                            f"[{event.phase.value}] {case.method} {case.formatted_path} query={case.query!r} "
                            f"body={str(case.body)[:200]!r}\n      → {response.status_code if response else '-'} "
                            f"{(response.content or b'')[:300] if response else ''!r}\n      "
                            f"{(failure.title + ': ' + failure.message) if failure else ''}"[:1200])
            elif isinstance(event, (events.NonFatalError, events.FatalError)):
                errors.append(f"{getattr(event, 'label', '')}: {getattr(event, 'value', None) or event.exception!r}")
    elapsed = time.monotonic() - started
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps({
        "schemathesis": schemathesis.__version__ if hasattr(schemathesis, "__version__") else None,
        "seed": SEED, "examples_per_operation": EXAMPLES_PER_OPERATION, "operations": len(operations),
        "cases": cases, "scenarios_by_phase": dict(phases), "seconds": round(elapsed, 1),
        "failures": {f"{label} :: {check}": len(items) for (label, check), items in failures.items()},
        "errors": errors, "known_issues": dict(known),
    }, indent=2))
    print(f"fuzzed {len(operations)} operations with {cases} cases in {elapsed:.0f}s ({dict(phases)})")
    report = "\n".join(f"{label} :: {check} ×{len(items)}\n    {items[0]}"
                       for (label, check), items in sorted(failures.items()))
    assert not errors, "schemathesis could not run some cases:\n" + "\n".join(errors[:20])
    assert not failures, f"{len(failures)} contract failures:\n{report}"
    assert len(operations) >= 25 and cases >= 10 * len(operations)
    unhandled = [r.getMessage() for r in caplog.records if r.name == "qorven.web" and r.levelno >= logging.ERROR]
    assert not unhandled, "the server logged unhandled errors:\n" + "\n".join(unhandled[:20])

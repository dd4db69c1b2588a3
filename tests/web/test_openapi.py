"""/openapi.json: a valid OpenAPI 3.1 document that covers every route and error code."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from qorven_local.bootstrap import build_context
from qorven_local.config import load_config
from qorven_local.errors import all_error_classes
from qorven_local.web.app import route_table


def test_spec_validates_and_documents_every_route(server):
    with server.client(token=None) as anon:
        spec = anon.get("/openapi.json").json()
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    for route in route_table(server.ctx):
        assert not route.undocumented_methods(), f"{route.path} has responders without @operation"
        path = re.sub(r"{(\w+):\w+}", r"{\1}", route.path)
        assert path in spec["paths"], path
        for method in route.operations():
            assert method in spec["paths"][path], (method, path)
    description = spec["info"]["description"]
    for cls in all_error_classes():
        assert f"| {cls.code} | {cls.status} |" in description


def test_operations_declare_auth_and_errors(server):
    with server.client(token=None) as anon:
        spec = anon.get("/openapi.json").json()
    agents_get = spec["paths"]["/v1/agents"]["get"]
    assert agents_get["security"] and "401" in agents_get["responses"]
    assert spec["paths"]["/health"]["get"]["security"] == []
    post = spec["paths"]["/v1/agents"]["post"]
    assert {"400", "409", "413", "415"} <= set(post["responses"])
    assert post["requestBody"]["content"]["application/json"]["schema"]["additionalProperties"] is False


def test_route_table_has_no_undocumented_responder(tmp_path):
    ctx = build_context(load_config({"home": str(tmp_path)}, env={}))
    try:
        missing = [(r.path, r.undocumented_methods()) for r in route_table(ctx) if r.undocumented_methods()]
    finally:
        ctx.db.close()
    assert missing == []

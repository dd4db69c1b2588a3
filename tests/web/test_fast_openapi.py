"""/openapi.json documents every route and method the built app serves, in process."""

from __future__ import annotations

import re

import pytest
from falcon import inspect

pytestmark = pytest.mark.fast


def test_the_spec_lists_every_route_the_app_serves(fast_app):
    spec = fast_app.client(token=None).simulate_get("/openapi.json").json
    served = inspect.inspect_routes(fast_app.app)
    assert served
    for route in served:
        path = re.sub(r"{(\w+):\w+}", r"{\1}", route.path)
        assert path in spec["paths"], path
        for method in (m.method for m in route.methods if not m.internal):
            assert method.lower() in spec["paths"][path], (method, path)

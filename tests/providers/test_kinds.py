"""The provider kinds table: every kind is one the database accepts, and each builds its own adapter."""

from __future__ import annotations

import re

from qorven_local.providers.kinds import KIND_NAMES, KINDS, create_provider
from qorven_local.providers.local.options import LocalOptions
from qorven_local.storage.migrations import m006_local_provider_kind


def test_every_kind_is_one_the_providers_table_accepts():
    assert sorted(KIND_NAMES) == sorted(re.findall(r"'(\w+)'", m006_local_provider_kind.NEW))


def test_each_kind_builds_an_adapter_that_reports_that_kind(tmp_path):
    for name, kind in KINDS.items():
        adapter = create_provider(name, kind.default_base_url or "http://127.0.0.1:9/v1",
                                  local=LocalOptions(tmp_path / "models"))
        try:
            assert adapter.kind == name
        finally:
            adapter.close()


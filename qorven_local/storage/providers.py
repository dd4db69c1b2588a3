"""Provider rows, their cached model catalogs and the tenant's selected models.

The key column only ever holds ciphertext (``security/secrets.py``); this module never sees a key
in clear.
"""

from __future__ import annotations

from typing import Any

from qorven_local.models import Page
from qorven_local.providers.types import CatalogModel, ProviderRecord
from qorven_local.storage.db import Database
from qorven_local.storage.paging import fetch_page


def row_to_provider(row: Any) -> ProviderRecord:
    return ProviderRecord(id=row["id"], tenant_id=row["tenant_id"], name=row["name"], kind=row["kind"],
                          base_url=row["base_url"], enabled=bool(row["enabled"]), key_enc=row["key_enc"],
                          key_hint=row["key_hint"], models_fetched_at=row["models_fetched_at"],
                          models_error=row["models_error"], created_at=row["created_at"],
                          updated_at=row["updated_at"])


def row_to_catalog_model(row: Any) -> CatalogModel:
    return CatalogModel(row["provider_id"], row["model"], row["owned_by"], row["context_length"])


class ProviderStore:
    """SQL over the providers, provider_models and selected_models tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # providers ---------------------------------------------------------------------------------
    def insert(self, conn: Any, p: ProviderRecord) -> None:
        conn.execute(
            "INSERT INTO providers (id, tenant_id, name, kind, base_url, enabled, key_enc, key_hint, "
            "models_fetched_at, models_error, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (p.id, p.tenant_id, p.name, p.kind, p.base_url, int(p.enabled), p.key_enc, p.key_hint,
             p.models_fetched_at, p.models_error, p.created_at, p.updated_at))

    def update(self, conn: Any, p: ProviderRecord) -> None:
        conn.execute(
            "UPDATE providers SET name = ?, base_url = ?, enabled = ?, key_enc = ?, key_hint = ?, "
            "models_fetched_at = ?, models_error = ?, updated_at = ? WHERE id = ? AND tenant_id = ?",
            (p.name, p.base_url, int(p.enabled), p.key_enc, p.key_hint, p.models_fetched_at, p.models_error,
             p.updated_at, p.id, p.tenant_id))

    def delete(self, conn: Any, tenant_id: str, provider_id: str) -> None:
        conn.execute("DELETE FROM providers WHERE id = ? AND tenant_id = ?", (provider_id, tenant_id))

    def get(self, tenant_id: str, provider_id: str) -> ProviderRecord | None:
        return self._one("tenant_id = ? AND id = ?", (tenant_id, provider_id))

    def get_by_name(self, tenant_id: str, name: str) -> ProviderRecord | None:
        return self._one("tenant_id = ? AND name = ? COLLATE NOCASE", (tenant_id, name))

    def _one(self, where: str, params: tuple[str, ...]) -> ProviderRecord | None:
        row = self.db.query_one(f"SELECT * FROM providers WHERE {where}", params)
        return row_to_provider(row) if row else None

    def list_all(self, tenant_id: str) -> list[ProviderRecord]:
        rows = self.db.query("SELECT * FROM providers WHERE tenant_id = ? ORDER BY rowid", (tenant_id,))
        return [row_to_provider(r) for r in rows]

    def page(self, tenant_id: str, *, limit: int | None, cursor: str | None) -> Page:
        with self.db.read() as conn:
            return fetch_page(conn, "SELECT rowid AS _rowid, * FROM providers", ["tenant_id = ?"], [tenant_id],
                              limit=limit, cursor=cursor, newest_first=True, build=row_to_provider)

    # catalog cache -----------------------------------------------------------------------------
    def replace_catalog(self, conn: Any, tenant_id: str, provider_id: str, models: list[CatalogModel]) -> None:
        conn.execute("DELETE FROM provider_models WHERE provider_id = ?", (provider_id,))
        conn.executemany(
            "INSERT OR IGNORE INTO provider_models (provider_id, tenant_id, model, owned_by, context_length) "
            "VALUES (?,?,?,?,?)", [(provider_id, tenant_id, m.model, m.owned_by, m.context_length) for m in models])

    def clear_catalog(self, conn: Any, provider_id: str) -> None:
        conn.execute("DELETE FROM provider_models WHERE provider_id = ?", (provider_id,))

    def catalog(self, tenant_id: str) -> list[CatalogModel]:
        rows = self.db.query("SELECT provider_id, model, owned_by, context_length FROM provider_models "
                             "WHERE tenant_id = ? ORDER BY provider_id, model", (tenant_id,))
        return [row_to_catalog_model(r) for r in rows]

    def catalog_entry(self, provider_id: str, model: str) -> CatalogModel | None:
        r = self.db.query_one("SELECT provider_id, model, owned_by, context_length FROM provider_models "
                              "WHERE provider_id = ? AND model = ?", (provider_id, model))
        return row_to_catalog_model(r) if r else None

    # selection ---------------------------------------------------------------------------------
    def selected(self, tenant_id: str) -> list[tuple[str, str, str]]:
        """(provider_id, model, created_at) of the selected models, in selection order."""
        rows = self.db.query("SELECT provider_id, model, created_at FROM selected_models WHERE tenant_id = ? "
                             "ORDER BY rowid", (tenant_id,))
        return [(r["provider_id"], r["model"], r["created_at"]) for r in rows]

    def is_selected(self, tenant_id: str, provider_id: str, model: str) -> bool:
        return self.db.query_one("SELECT 1 FROM selected_models WHERE tenant_id = ? AND provider_id = ? AND model = ?",
                                 (tenant_id, provider_id, model)) is not None

    def replace_selected(self, conn: Any, tenant_id: str, models: list[tuple[str, str]], now: str) -> None:
        conn.execute("DELETE FROM selected_models WHERE tenant_id = ?", (tenant_id,))
        conn.executemany("INSERT OR IGNORE INTO selected_models (tenant_id, provider_id, model, created_at) "
                         "VALUES (?,?,?,?)", [(tenant_id, p, m, now) for p, m in models])

    def add_selected(self, conn: Any, tenant_id: str, provider_id: str, model: str, now: str) -> None:
        conn.execute("INSERT OR IGNORE INTO selected_models (tenant_id, provider_id, model, created_at) "
                     "VALUES (?,?,?,?)", (tenant_id, provider_id, model, now))

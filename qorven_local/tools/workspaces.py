"""One workspace folder per tenant under ``<data root>/workspace/``, and the one-time move into that layout.

The file tools of tenant T work in ``workspace/<T>/``. Tenant ids are slugs (``[a-z0-9][a-z0-9_-]*``,
checked where tokens are issued), so an id is a safe single path component; anything else is refused
here rather than trusted. Windows device names (``con``, ``nul``, ``com1`` ...) cannot be folder names
there, so those ids get a leading ``_``, which no slug starts with, on every platform alike (a data
root copied between systems keeps its folders).

Before this layout every tenant shared ``workspace/`` itself. ``adopt_shared_layout`` moves what is
there into the default tenant's folder, once, at start: every entry is first renamed into a staging
folder, then a marker file records that the move happened, then the staging folder becomes (or is
merged into) the default tenant's folder. Each step is a rename inside one folder, so a crash at any
point loses nothing and the next start finishes the move; with the marker present and no staging
folder left it does nothing.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

log = logging.getLogger("qorven.tools")

_TENANT_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
LAYOUT_MARKER = ".per-tenant"      # names starting with "." are never tenant folders
_STAGING = ".moving-to-default"


def folder_name(tenant_id: str) -> str:
    """The tenant's folder name under the workspace root; ``ValueError`` for an id that is not a slug."""
    if not _TENANT_RE.fullmatch(tenant_id):
        raise ValueError(f"tenant id {tenant_id!r} is not a slug; it cannot name a workspace folder")
    return "_" + tenant_id if tenant_id in _WINDOWS_DEVICES else tenant_id


def tenant_workspace(root: Path, tenant_id: str) -> Path:
    """Where ``tenant_id``'s file tools work: a folder of its own under ``root`` (created on first use)."""
    return root / folder_name(tenant_id)


def adopt_shared_layout(root: Path, default_tenant: str) -> int:
    """Move files of the shared layout into ``default_tenant``'s folder (once; idempotent); how many entries moved."""
    root.mkdir(parents=True, exist_ok=True)
    marker, staging = root / LAYOUT_MARKER, root / _STAGING
    moved = 0
    if not marker.exists():
        staging.mkdir(exist_ok=True)
        for entry in sorted(os.listdir(root)):
            if entry not in (_STAGING, LAYOUT_MARKER):
                os.rename(root / entry, staging / entry)
                moved += 1
        marker.write_text("tenant folders: workspace/<tenant id>/\n", encoding="utf-8")
    if staging.exists():
        _merge_into(staging, tenant_workspace(root, default_tenant))
    if moved:
        log.info("moved %d workspace entries into the %s tenant's folder", moved, default_tenant)
    return moved


def _merge_into(staging: Path, target: Path) -> None:
    """Make ``staging`` the ``target`` folder, or move its entries in when ``target`` already exists."""
    if not target.exists():
        os.rename(staging, target)
        return
    for entry in sorted(os.listdir(staging)):
        destination = target / entry
        suffix = 1
        while destination.exists() or destination.is_symlink():  # never overwrite: keep both
            destination = target / f"{entry}.moved-{suffix}"
            suffix += 1
        os.rename(staging / entry, destination)
    staging.rmdir()

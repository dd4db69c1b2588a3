"""``/v1/desktop``: what the desktop window offers the page, and its native file dialog."""

from __future__ import annotations

import falcon

from qorven_local.native_dialogs import PURPOSES, FileDialogs
from qorven_local.web.io import read_body
from qorven_local.web.spec import operation

DESKTOP = {
    "type": "object", "required": ["object", "window", "file_dialog"],
    "properties": {"object": {"const": "desktop"},
                   "window": {"type": "boolean", "description": "the app runs in its desktop window"},
                   "file_dialog": {"type": "boolean",
                                   "description": "POST /v1/desktop/file-dialog can open the native dialog"}},
}
FILE_DIALOG = {
    "type": "object", "additionalProperties": False, "required": ["purpose"],
    "properties": {"purpose": {"enum": sorted(PURPOSES),
                               "description": "what the file is for: sets the dialog's file filter"}},
}
FILE_CHOSEN = {
    "type": "object", "required": ["object", "path"],
    "properties": {"object": {"const": "file_choice"},
                   "path": {"type": ["string", "null"], "description": "the chosen file; null when cancelled"}},
}


class DesktopResource:
    def __init__(self, dialogs: FileDialogs) -> None:
        self.dialogs = dialogs

    @operation(summary="What the desktop window offers the page (its native file dialog)", tag="settings",
               response=DESKTOP)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"object": "desktop", "window": self.dialogs.available, "file_dialog": self.dialogs.available}


class FileDialogResource:
    def __init__(self, dialogs: FileDialogs) -> None:
        self.dialogs = dialogs

    @operation(summary="Open the desktop window's native file dialog and answer the chosen path",
               tag="settings", request=FILE_DIALOG, response=FILE_CHOSEN, admin=True, errors=("conflict",),
               description="Waits while the person picks a file (null when they cancel). 409 conflict in a "
                           "browser or headless, where there is no window, or while another dialog is open. "
                           "Admin only: the answer is a path on this computer.")
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_body(req, FILE_DIALOG)
        resp.media = {"object": "file_choice", "path": self.dialogs.choose(body["purpose"])}

"""``/v1/desktop``: what the desktop window offers the page: its native file dialog, showing a folder."""

from __future__ import annotations

from pathlib import Path

import falcon

from qorven_local.native_dialogs import PURPOSES, FileDialogs
from qorven_local.web.io import read_body
from qorven_local.web.spec import operation

DESKTOP = {
    "type": "object", "required": ["object", "window", "file_dialog", "open_folder"],
    "properties": {"object": {"const": "desktop"},
                   "window": {"type": "boolean", "description": "the app runs in its desktop window"},
                   "file_dialog": {"type": "boolean",
                                   "description": "POST /v1/desktop/file-dialog can open the native dialog"},
                   "open_folder": {"type": "boolean",
                                   "description": "POST /v1/desktop/open-folder can show a folder"}},
}
FILE_DIALOG = {
    "type": "object", "additionalProperties": False, "required": ["purpose"],
    "properties": {"purpose": {"enum": sorted(PURPOSES),
                               "description": "what the file is for: sets the dialog's file filter"}},
}
FOLDERS = ("data", "backups", "models")
OPEN_FOLDER = {
    "type": "object", "additionalProperties": False, "required": ["folder"],
    "properties": {"folder": {"enum": list(FOLDERS), "description": "the data folder, its backups/ or its models/"}},
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
        window = self.dialogs.available
        resp.media = {"object": "desktop", "window": window, "file_dialog": window, "open_folder": window}


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


class OpenFolderResource:
    def __init__(self, dialogs: FileDialogs, data_root: Path, models_dir: Path) -> None:
        self.dialogs = dialogs
        self.folders = {"data": data_root, "backups": data_root / "backups", "models": models_dir}

    @operation(summary="Show one of the app's folders in the system's file manager", tag="settings",
               request=OPEN_FOLDER, status=204, admin=True, errors=("conflict",),
               description="Only while the desktop window is open (409 conflict in a browser or headless: "
                           "the folder may not be on the browser's computer). A missing folder is created.")
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_body(req, OPEN_FOLDER)
        self.dialogs.show_folder(self.folders[body["folder"]])
        resp.status = falcon.HTTP_204

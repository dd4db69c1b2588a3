"""/v1/documents: thin resources over DocumentService (multipart or JSON uploads, list, show, passages, delete)."""

from __future__ import annotations

from typing import Any

import falcon

from qorven_local.documents.service import DocumentService, Upload, Uploaded
from qorven_local.errors import PayloadTooLarge, ValidationError
from qorven_local.web import schemas
from qorven_local.web.io import page_args, page_body, principal, query_choice, read_body
from qorven_local.web.spec import PAGED, Param, Route, operation
from qorven_local.web.validation import validate

UPLOAD_ERRORS = ("payload_too_large", "unsupported_media_type", "unreadable_document", "not_found")
READ_BLOCK = 1024 * 1024
FORM_FIELDS = ("title", "scope", "agent_id", "session_id")
DOCUMENT_FILTERS = (
    Param("scope", {"enum": schemas.DOCUMENT_SCOPES}, "only this scope"),
    Param("agent_id", {"type": "string"}, "only documents shared with this agent"),
    Param("session_id", {"type": "string"}, "only documents of this conversation"),
    Param("status", {"enum": schemas.DOCUMENT_STATUSES}, "only documents in this state"),
)
# The form a browser or curl sends: the file and the optional fields (content/filename are JSON's).
MULTIPART_UPLOAD = {"type": "object", "required": ["file"], "additionalProperties": False, "properties": {
    "file": {"type": "string", "format": "binary", "description": "the document"},
    **{k: v for k, v in schemas.DOCUMENT_UPLOAD_FIELDS.items() if k in FORM_FIELDS}}}
_FIELDS_ONLY = {"type": "object", "additionalProperties": False, "properties": {
    k: v for k, v in schemas.DOCUMENT_UPLOAD_FIELDS.items() if k in FORM_FIELDS}}


def _read_part(stream: Any, limit: int) -> bytes:
    """A form part's bytes, refusing (413) as soon as they pass ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        block = stream.read(READ_BLOCK)
        if not block:
            return b"".join(chunks)
        size += len(block)
        if size > limit:
            raise PayloadTooLarge(f"the file is larger than {limit} bytes (QORVEN_MAX_UPLOAD_BYTES)", param="file")
        chunks.append(block)


def multipart_upload(req: falcon.Request, limit: int) -> Upload:
    """The file and fields of a multipart/form-data upload."""
    data: bytes | None = None
    filename: str | None = None
    fields: dict[str, Any] = {}
    for part in req.get_media():
        if part.name == "file":
            if data is not None:
                raise ValidationError("send one file per upload", param="file")
            filename = part.filename or None
            data = _read_part(part.stream, limit)
        elif part.name in FORM_FIELDS:
            fields[part.name] = part.get_text() or None
        else:
            raise ValidationError(f"unknown form field {part.name!r}; send file, {', '.join(FORM_FIELDS)}",
                                  param=part.name)
    if data is None:
        raise ValidationError("the form has no file: send it in the field named file", param="file")
    validate(_FIELDS_ONLY, {k: v for k, v in fields.items() if v is not None})
    return Upload(data=data, filename=filename, title=fields.get("title"), scope=fields.get("scope") or "workspace",
                  agent_id=fields.get("agent_id"), session_id=fields.get("session_id"))


def json_upload(req: falcon.Request) -> Upload:
    """A JSON upload: the document's text in ``content``."""
    body = read_body(req, schemas.DOCUMENT_JSON)
    return Upload(data=body["content"].encode("utf-8"), filename=body.get("filename"), title=body.get("title"),
                  scope=body.get("scope") or "workspace", agent_id=body.get("agent_id"),
                  session_id=body.get("session_id"))


def uploaded_body(result: Uploaded) -> dict[str, Any]:
    return {**result.document.to_dict(), "deduplicated": result.deduplicated}


class DocumentsResource:
    def __init__(self, documents: DocumentService) -> None:
        self.documents = documents

    @operation(summary="Upload a document: read, cut into passages, embedded and stored as memories", tag="documents",
               request=schemas.DOCUMENT_UPLOAD, response=schemas.DOCUMENT, status=201,
               content_types=("multipart/form-data", "application/json"), errors=UPLOAD_ERRORS,
               request_by_type={"multipart/form-data": MULTIPART_UPLOAD, "application/json": schemas.DOCUMENT_JSON},
               extra_statuses={200: "The same bytes were already stored in that scope (deduplicated: true)",
                               202: "A large file: status processing; document.progress events on /ws"},
               description=("Plain text, Markdown, HTML, PDF, DOCX and source files. Over QORVEN_MAX_UPLOAD_BYTES: "
                            "413 payload_too_large; a type it cannot read: 415 unsupported_media_type; an "
                            "encrypted, corrupt or text-less file: 422 unreadable_document. Nothing is stored "
                            "on any refusal or failure."))
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        media = (req.content_type or "").split(";")[0].strip().lower()
        upload = (multipart_upload(req, self.documents.max_upload_bytes) if media == "multipart/form-data"
                  else json_upload(req))
        result = self.documents.upload(principal(req).tenant_id, upload)
        resp.status = 200 if result.deduplicated else 202 if result.processing else 201
        resp.media = uploaded_body(result)

    @operation(summary="List documents (newest first)", tag="documents", response=schemas.list_of(schemas.DOCUMENT),
               query=PAGED + DOCUMENT_FILTERS)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        filters = {"scope": query_choice(req, "scope", tuple(schemas.DOCUMENT_SCOPES)),
                   "agent_id": req.get_param("agent_id"), "session_id": req.get_param("session_id"),
                   "status": query_choice(req, "status", tuple(schemas.DOCUMENT_STATUSES))}
        resp.media = page_body(self.documents.list_page(principal(req).tenant_id, filters, **page_args(req)))


class DocumentResource:
    def __init__(self, documents: DocumentService) -> None:
        self.documents = documents

    @operation(summary="Get a document (its status and passage count)", tag="documents", response=schemas.DOCUMENT)
    def on_get(self, req: falcon.Request, resp: falcon.Response, document_id: str) -> None:
        resp.media = self.documents.get(principal(req).tenant_id, document_id).to_dict()

    @operation(summary="Delete a document and every passage of it from memory", tag="documents",
               response=schemas.DOCUMENT_DELETED)
    def on_delete(self, req: falcon.Request, resp: falcon.Response, document_id: str) -> None:
        document = self.documents.delete(principal(req).tenant_id, document_id)
        resp.media = {"id": document.id, "object": "document", "deleted": True, "chunks": document.chunks}


class DocumentChunksResource:
    def __init__(self, documents: DocumentService) -> None:
        self.documents = documents

    @operation(summary="A document's passages, in order", tag="documents",
               response=schemas.list_of(schemas.DOCUMENT_CHUNK), query=PAGED)
    def on_get(self, req: falcon.Request, resp: falcon.Response, document_id: str) -> None:
        page = self.documents.chunks_page(principal(req).tenant_id, document_id, **page_args(req))
        resp.media = page_body(page, lambda item: item)


def document_routes(documents: DocumentService) -> list[Route]:
    """The /v1/documents routes over one service."""
    return [Route("/v1/documents", DocumentsResource(documents)),
            Route("/v1/documents/{document_id}", DocumentResource(documents)),
            Route("/v1/documents/{document_id}/chunks", DocumentChunksResource(documents))]

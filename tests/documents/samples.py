"""Documents made in the test (and the bench): a text PDF written by hand, DOCX through python-docx,
and the refusals (encrypted, text-less, corrupt, binary)."""

from __future__ import annotations

import io
from typing import Sequence


def _pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: Sequence[Sequence[str]], title: str | None = None) -> bytes:
    """A PDF with one page per item, each a list of text lines in Helvetica (a real text layer)."""
    objects: list[bytes] = []
    kids = []
    font_id = 3
    next_id = 4
    page_objects: list[tuple[int, bytes]] = []
    for lines in pages:
        body = "BT /F1 11 Tf 14 TL 56 760 Td " + " ".join(f"({_pdf_text(line)}) Tj T*" for line in lines) + " ET"
        stream = body.encode("latin-1", errors="replace")
        content_id, page_id = next_id, next_id + 1
        next_id += 2
        kids.append(page_id)
        page_objects.append((content_id, b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"))
        page_objects.append((page_id, (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R "
                                       f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>").encode()))
    info_id = next_id
    objects_by_id = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode(),
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        **dict(page_objects),
        info_id: f"<< /Title ({_pdf_text(title or '')}) >>".encode("latin-1"),
    }
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects_by_id):
        offsets[number] = out.tell()
        out.write(f"{number} 0 obj\n".encode() + objects_by_id[number] + b"\nendobj\n")
    xref = out.tell()
    count = max(objects_by_id) + 1
    out.write(f"xref\n0 {count}\n0000000000 65535 f \n".encode())
    for number in range(1, count):
        out.write(f"{offsets[number]:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {count} /Root 1 0 R /Info {info_id} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    del objects
    return out.getvalue()


def make_docx(blocks: Sequence[tuple[str, str]]) -> bytes:
    """A DOCX of (style, text) blocks: style "h1".."h3" for headings, "p" for a paragraph."""
    import docx

    document = docx.Document()
    for style, text in blocks:
        if style.startswith("h"):
            document.add_heading(text, level=int(style[1:]))
        else:
            document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def encrypted_pdf() -> bytes:
    """A text PDF locked with a user password."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(make_pdf([["Locked away: the vault code is 4417."]]))))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def blank_pdf() -> bytes:
    """A PDF whose only page has no text (what a scan without OCR looks like to a reader)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4

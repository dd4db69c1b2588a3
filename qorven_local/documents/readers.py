"""Readers: a file's bytes to the sections of its text, by type.

The type comes from the bytes first and the file name second (``detect``): a PDF or a DOCX is
recognised by its signature whatever it is called, other known binary formats are refused, and
anything that decodes as text is text, read as Markdown, HTML or source code by its extension (or an
HTML document by its opening tag). Each reader says where each section sits: ``"p. 3"`` for a PDF
page, the heading path (``"Install › Linux"``) for Markdown, HTML and DOCX, a line range for code
and plain text.

Refusals: a type that cannot be read raises ``UnsupportedMediaType`` (415); an encrypted, corrupt or
text-less file raises ``UnreadableDocument`` (422) with the reason.
"""

from __future__ import annotations

import io
import re
import zipfile
from html.parser import HTMLParser
from pathlib import PurePath

from qorven_local.documents.types import ReadDocument, Section
from qorven_local.errors import UnreadableDocument, UnsupportedMediaType

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MARKDOWN = "text/markdown"
HTML = "text/html"
PLAIN = "text/plain"
CODE = "text/x-source"  # a source file; its own extension says which language
HEADING_JOIN = " › "
LINES_PER_SECTION = 60   # a code or text file is cited by line ranges of about this size

MARKDOWN_EXTENSIONS = {".md", ".markdown", ".mdown", ".mkd", ".rst"}
HTML_EXTENSIONS = {".html", ".htm", ".xhtml"}
TEXT_EXTENSIONS = {".txt", ".text", ".log", ".csv", ".tsv", ".org", ".adoc", ""}
CODE_EXTENSIONS = {
    ".py", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".java", ".kt", ".kts", ".scala", ".go", ".rs", ".c", ".h",
    ".cc", ".cpp", ".cxx", ".hpp", ".cs", ".swift", ".m", ".rb", ".php", ".pl", ".lua", ".r", ".jl", ".sh", ".bash",
    ".zsh", ".fish", ".ps1", ".bat", ".sql", ".css", ".scss", ".less", ".vue", ".svelte", ".json", ".jsonl",
    ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".xml", ".proto", ".graphql", ".dart", ".ex", ".exs", ".erl",
    ".hs", ".ml", ".clj", ".lisp", ".el", ".vim", ".tf", ".nix", ".cmake", ".mk", ".gradle", ".dockerfile",
}
CODE_NAMES = {"makefile", "dockerfile", "gemfile", "rakefile", "procfile", "license", "readme", "changelog"}
# signatures of binary formats we do not read (images, archives, audio/video, executables, old Office)
BINARY_SIGNATURES = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"RIFF", "a RIFF media file"), (b"\x1f\x8b", "a gzip archive"), (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"), (b"\x7fELF", "a program"), (b"MZ", "a Windows program"), (b"%!PS", "PostScript"),
    (b"ID3", "an MP3 file"), (b"OggS", "an Ogg file"), (b"fLaC", "a FLAC file"), (b"BM", "a bitmap image"),
    (b"SQLite format 3", "an SQLite database"), (b"\x00\x00\x01\x00", "an icon"),
)
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .doc/.xls and encrypted Office files


def _extension(filename: str | None) -> tuple[str, str]:
    path = PurePath(filename or "")
    return path.suffix.lower(), path.name.lower()


def detect(data: bytes, filename: str | None) -> str:
    """The media type we read ``data`` as, or ``UnsupportedMediaType`` for a type we cannot read."""
    suffix, name = _extension(filename)
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        if _zip_has(data, "word/document.xml"):
            return DOCX
        raise UnsupportedMediaType("this is a ZIP archive (or an Office file other than .docx); upload text, "
                                   "Markdown, HTML, PDF, DOCX or source files", param="file")
    if data.startswith(OLE_SIGNATURE):
        if suffix == ".docx":
            raise UnreadableDocument("the DOCX file is encrypted (password protected); save it without a password "
                                     "and upload it again", param="file")
        raise UnsupportedMediaType("this is an old binary Office file (.doc, .xls, .ppt); save it as .docx or PDF "
                                   "and upload that", param="file")
    for signature, what in BINARY_SIGNATURES:
        if data.startswith(signature):
            raise UnsupportedMediaType(f"this file is {what}, not a document with text", param="file")
    if suffix == ".pdf":
        raise UnreadableDocument("the file is named .pdf but is not a PDF (it may be damaged)", param="file")
    if suffix == ".docx":
        raise UnreadableDocument("the file is named .docx but is not a Word document (it may be damaged)",
                                 param="file")
    if decode_text(data) is None:
        raise UnsupportedMediaType("this file is binary, not text; upload text, Markdown, HTML, PDF, DOCX or "
                                   "source files", param="file")
    if suffix in MARKDOWN_EXTENSIONS:
        return MARKDOWN
    if suffix in HTML_EXTENSIONS or re.match(rb"\s*(<!doctype html|<html)", data[:512], re.IGNORECASE):
        return HTML
    if suffix in CODE_EXTENSIONS or name in CODE_NAMES:
        return CODE
    return PLAIN


def _zip_has(data: bytes, member: str) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return member in archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        return False


def decode_text(data: bytes) -> str | None:
    """The text of ``data`` (UTF-8, UTF-16 with a BOM, else Windows-1252), or None when it looks binary."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    sample = data[:65536]
    if b"\x00" in sample:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1252", errors="replace")
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\t\n\r\f")
    return None if controls > len(text[:65536]) * 0.01 else text


def read(data: bytes, media_type: str) -> ReadDocument:
    """The sections of a file already ``detect``-ed as ``media_type``; ``UnreadableDocument`` when it has no text."""
    if media_type == PDF:
        document = read_pdf(data)
    elif media_type == DOCX:
        document = read_docx(data)
    else:
        text = decode_text(data) or ""
        if media_type == MARKDOWN:
            document = ReadDocument(markdown_sections(text), media_type)
        elif media_type == HTML:
            document = read_html(text)
        else:
            document = ReadDocument(line_sections(text), media_type)
    document.sections = [s for s in document.sections if s.text.strip()]
    if not document.sections:
        raise UnreadableDocument(_no_text_reason(media_type), param="file")
    return document


def _no_text_reason(media_type: str) -> str:
    if media_type == PDF:
        return "the PDF has no text layer (a scan or images only); run OCR on it first"
    return "the file holds no text"


# -- plain text, code, Markdown -------------------------------------------------------------------

def line_sections(text: str) -> list[Section]:
    """Blocks of about ``LINES_PER_SECTION`` lines, cut at blank lines where possible, cited by line range."""
    lines = text.splitlines()
    sections: list[Section] = []
    start = 0
    while start < len(lines):
        end = min(len(lines), start + LINES_PER_SECTION)
        if end < len(lines):
            # end at the last blank line of the block's second half, so paragraphs stay whole
            for i in range(end, start + LINES_PER_SECTION // 2, -1):
                if not lines[i - 1].strip():
                    end = i
                    break
        block = "\n".join(lines[start:end])
        if block.strip():
            first = start + next(i for i, line in enumerate(lines[start:end]) if line.strip()) + 1
            sections.append(Section(block, f"lines {first}-{end}"))
        start = end
    return sections


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def markdown_sections(text: str) -> list[Section]:
    """One section per heading (its text up to the next heading), cited by the heading path."""
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    body: list[str] = []
    in_fence = False

    def flush() -> None:
        if "\n".join(body).strip():
            sections.append(Section("\n".join(body).strip(), HEADING_JOIN.join(t for _, t in path) or None))
        body.clear()

    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _MD_HEADING.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            path = [(lv, t) for lv, t in path if lv < level] + [(level, heading.group(2).strip())]
            continue
        body.append(line)
    flush()
    return sections


# -- HTML -------------------------------------------------------------------------------------------

class _HtmlText(HTMLParser):
    """Text of an HTML page by heading: scripts, styles and other non-text elements dropped."""

    SKIP = {"script", "style", "noscript", "template", "svg", "head", "iframe", "object"}
    BLOCKS = {"p", "div", "br", "li", "tr", "table", "section", "article", "blockquote", "pre", "ul", "ol", "hr",
              "dd", "dt", "header", "footer", "main", "nav", "aside", "figure", "figcaption", "form"}
    HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[Section] = []
        self.path: list[tuple[int, str]] = []
        self.buffer: list[str] = []
        self.heading: list[str] | None = None
        self.heading_level = 0
        self.skipping = 0
        self.title: str | None = None
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.HEADINGS and not self.skipping:
            self.flush()
            self.heading, self.heading_level = [], self.HEADINGS[tag]
        elif tag in self.BLOCKS:
            self.buffer.append("\n\n" if tag == "p" else "\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self.buffer.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.HEADINGS and self.heading is not None:
            text = " ".join("".join(self.heading).split())
            if text:
                self.path = [(lv, t) for lv, t in self.path if lv < self.heading_level] + [(self.heading_level, text)]
            self.heading = None
        elif tag in self.BLOCKS:
            self.buffer.append("\n\n" if tag == "p" else "\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title = ((self.title or "") + data).strip() or None
            return
        if self.skipping:
            return
        (self.heading if self.heading is not None else self.buffer).append(data)

    def flush(self) -> None:
        raw = "".join(self.buffer)
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", raw)]
        text = "\n\n".join(p for p in paragraphs if p)
        if text:
            self.sections.append(Section(text, HEADING_JOIN.join(t for _, t in self.path) or None))
        self.buffer = []


def read_html(text: str) -> ReadDocument:
    """An HTML page's visible text, by heading, with its ``<title>``."""
    parser = _HtmlText()
    parser.feed(text)
    parser.close()
    parser.flush()
    return ReadDocument(parser.sections, HTML, title=parser.title)


# -- PDF and DOCX -----------------------------------------------------------------------------------

def read_pdf(data: bytes) -> ReadDocument:
    """One section per page with text, cited ``"p. N"``; encrypted or damaged files are refused with why."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableDocument("the PDF is encrypted (password protected); remove the password and upload "
                                     "it again", param="file")
        pages = reader.pages
        sections = [Section(page.extract_text() or "", f"p. {number}") for number, page in enumerate(pages, 1)]
        title = None
        try:
            title = (reader.metadata.title if reader.metadata else None) or None
        except Exception:  # metadata is optional and often malformed; the file name stands in
            title = None
        return ReadDocument(sections, PDF, pages=len(pages), title=title)
    except UnreadableDocument:
        raise
    except FileNotDecryptedError:
        raise UnreadableDocument("the PDF is encrypted (password protected); remove the password and upload it "
                                 "again", param="file") from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError,
            NotImplementedError) as exc:
        raise UnreadableDocument(f"the PDF is damaged and cannot be read ({type(exc).__name__})",
                                 param="file") from None


def read_docx(data: bytes) -> ReadDocument:
    """Paragraphs (and table rows) by heading, cited by the heading path; damaged files are refused."""
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises a mix of zipfile, lxml and its own errors on damage
        raise UnreadableDocument(f"the DOCX file is damaged and cannot be read ({type(exc).__name__})",
                                 param="file") from None
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    body: list[str] = []

    def flush() -> None:
        if body:
            sections.append(Section("\n\n".join(body), HEADING_JOIN.join(t for _, t in path) or None))
            body.clear()

    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        level = _heading_level(style)
        if level and text:
            flush()
            path = [(lv, t) for lv, t in path if lv < level] + [(level, text)]
        elif text:
            body.append(text)
    flush()
    for table in document.tables:
        rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows]
        text = "\n".join(r for r in rows if r.strip(" |"))
        if text:
            sections.append(Section(text, "table"))
    title = (document.core_properties.title or "").strip() or None
    return ReadDocument(sections, DOCX, title=title)


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.match(r"Heading (\d)", style)
    return int(match.group(1)) if match else 0

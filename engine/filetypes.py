"""File types an attachment may have, recognised by their content (magic bytes), and safe file names.

Pure functions, no database. The declared content type of an upload (what
the browser or client says) is never trusted on its own: `sniff` looks at
the bytes, and engine.attachments refuses a file whose content is not an
allowed type, or whose declared type says something else than its content.
"""
from __future__ import annotations

import re
import unicodedata

PDF, PNG, JPEG, TEXT = "application/pdf", "image/png", "image/jpeg", "text/plain"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"

# type → (name shown to users, allowed file name endings; the first is added when the name has none of them)
UPLOAD_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    PDF: ("PDF", (".pdf",)),
    PNG: ("PNG", (".png",)),
    JPEG: ("JPEG", (".jpg", ".jpeg")),
    TEXT: ("tekst", (".txt",)),
    DOCX: ("Word (DOCX)", (".docx",)),
    ODT: ("OpenDocument-tekst (ODT)", (".odt",)),
}
# What clients send when they do not know (or will not say) the type: the content decides.
GENERIC_DECLARED = {"", "application/octet-stream", "binary/octet-stream", "application/unknown"}
ALIASES = {"image/jpg": JPEG, "image/pjpeg": JPEG, "application/x-pdf": PDF}
MAX_FILENAME = 150
_TEXT_CONTROLS_OK = {"\t", "\n", "\r", "\f"}


def sniff(data: bytes) -> str | None:
    """The type the bytes really are, among UPLOAD_TYPES, or None."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04"):
        return _zip_document(data)
    if text_charset(data) is not None:
        return TEXT
    return None


def _zip_document(data: bytes) -> str | None:
    # ODF puts an uncompressed "mimetype" entry first (the specification requires it) ...
    if data[30:38] == b"mimetype" and data[38:38 + len(ODT)] == ODT.encode():
        return ODT
    # ... an OOXML Word file is a zip with [Content_Types].xml and a word/ folder. Only the
    # names are looked at (the central directory), nothing is unpacked: no zip bomb risk.
    import io
    import zipfile
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" in names and any(n.startswith("word/") for n in names):
        return DOCX
    return None


def text_charset(data: bytes) -> str | None:
    """'utf-8' or 'windows-1252' if the bytes are plain text (no control characters), else None."""
    for charset in ("utf-8", "windows-1252"):
        try:
            text = data.decode(charset)
        except UnicodeDecodeError:
            continue
        if all(ch in _TEXT_CONTROLS_OK or unicodedata.category(ch) != "Cc" for ch in text.lstrip("\ufeff")):
            return charset
        return None
    return None


def declared_type(value: str | None) -> str:
    """A declared Content-Type reduced to its lower-case type ('image/jpg; x=y' → 'image/jpeg')."""
    base = (value or "").split(";", 1)[0].strip().lower()
    return ALIASES.get(base, base)


def label(content_type: str) -> str:
    return UPLOAD_TYPES.get(content_type, (content_type, ()))[0]


def safe_filename(name: object, content_type: str) -> str:
    """The base name only, without control or invisible characters, capped, ending as the type does.

    'C:\\x\\..\\brev.PDF' → 'brev.PDF'; '../../etc/passwd' → 'passwd.txt' (a text file);
    'evil.html' holding text → 'evil.html.txt', so a download never opens as something else.
    """
    text = unicodedata.normalize("NFC", name if isinstance(name, str) else "")
    text = re.split(r"[\\/]", text)[-1]
    # Cc control, Cf format (e.g. U+202E, which would show 'fdp.exe' as 'exe.pdf'), Cs/Co/Cn
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = re.sub(r'[<>:"|?*]', "_", " ".join(text.split())).strip(" .")
    endings = UPLOAD_TYPES.get(content_type, ("", ("",)))[1]
    if not text.lower().endswith(endings):
        text = (text or "bilag") + endings[0]
    if len(text) > MAX_FILENAME:
        ending = next(e for e in endings if text.lower().endswith(e))
        text = text[:MAX_FILENAME - len(ending)].rstrip(" .") + text[len(text) - len(ending):]
    return text

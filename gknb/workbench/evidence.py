"""The source evidence the workbench serves: a document's bytes by their SHA-256, only for
documents the warehouse records, from the raw store (crawled files) or the recorded local path.

A file is served only if its bytes still hash to the recorded SHA-256: evidence that changed on
disk since it was loaded is not the evidence the finding was made on.
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path

SHA256 = re.compile(r"^[0-9a-f]{64}$")
LINE_FORMATS = ("text", "markdown", "webtext")
PAGE_FORMATS = ("pdf", "ocr")
MEDIA_TYPES = {
    ".pdf": "application/pdf", ".html": "text/html", ".htm": "text/html", ".txt": "text/plain",
    ".md": "text/plain", ".doc": "application/msword", ".wps": "application/octet-stream",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".tif": "image/tiff",
    ".tiff": "image/tiff",
}

_verified: dict[tuple[str, int, int], str] = {}
_verified_lock = threading.Lock()


def _sha256_of(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    with _verified_lock:
        known = _verified.get(key)
    if known:
        return known
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    with _verified_lock:
        _verified[key] = digest
    return digest


def locate(sha256: str, documents: list[dict], raw_dir: Path | None) -> Path | None:
    """The file holding the recorded bytes: the raw store's copy, else a recorded local path whose
    content still matches; None when neither exists."""
    candidates: list[Path] = []
    if raw_dir is not None:
        folder = Path(raw_dir) / sha256[:2]
        if folder.is_dir():
            candidates += sorted(p for p in folder.glob(f"{sha256}*") if not p.name.startswith("."))
    candidates += [Path(d["source_path"]) for d in documents if d.get("source_path")]
    for path in candidates:
        try:
            if path.is_file() and _sha256_of(path) == sha256:
                return path
        except OSError:
            continue
    return None


def media_type(path: Path, fmt: str | None) -> str:
    if fmt in PAGE_FORMATS:
        return "application/pdf" if path.suffix.lower() == ".pdf" or fmt == "pdf" else "application/octet-stream"
    if fmt in LINE_FORMATS:
        return "text/plain; charset=utf-8"
    return MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")


def decode_text(data: bytes) -> str:
    """A text source as the extractor read it: UTF-8 (with or without BOM), else the detected
    encoding (GB18030 for most older Chinese pages)."""
    for enc in ("utf-8-sig",):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is not None:
            return str(best)
    except Exception:  # noqa: BLE001 - fall through to GB18030
        pass
    return data.decode("gb18030", errors="replace")


def evidence_link(doc_sha: str | None, fmt: str | None, page: int | None, has_bytes: bool = True) -> str | None:
    """The workbench URL that opens the archived copy at the finding's place: a PDF at its page
    (#page=N), a text source at its line (#L<n> of the served text view)."""
    if not doc_sha or not has_bytes:
        return None
    if fmt in LINE_FORMATS:
        return f"/text/{doc_sha}" + (f"#L{int(page)}" if page else "")
    return f"/raw/{doc_sha}" + (f"#page={int(page)}" if page and fmt in PAGE_FORMATS else "")


def web_url(url: str | None) -> str | None:
    """Only http(s) addresses become links: a javascript: or data: "URL" from a crawled page would
    run in the auditor's browser."""
    if url and url.split(":", 1)[0].lower() in ("http", "https"):
        return url
    return None

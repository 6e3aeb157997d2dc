"""Raw files, content-addressed: data/raw/<sha[:2]>/<sha256><ext>. The same bytes are stored once."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

# The extension tells the extractors' format sniffing what a body is when its bytes do not.
_TYPE_EXTENSIONS = {
    "application/pdf": ".pdf",
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/kswps": ".wps",
    "application/wps-office.wps": ".wps",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/tiff": ".tif",
    "text/plain": ".txt",
}
_KNOWN_EXTENSIONS = {".pdf", ".html", ".htm", ".shtml", ".doc", ".docx", ".wps", ".jpg", ".jpeg",
                     ".png", ".tif", ".tiff", ".txt"}


class RawStore:
    """The raw layer: bytes exactly as served, named by their SHA-256."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._swept: set[Path] = set()  # folders whose killed crawls' part files are removed

    def put(self, data: bytes, url: str, content_type: str | None = None) -> tuple[str, Path]:
        """Stores `data` (once) and returns (sha256, path)."""
        sha = hashlib.sha256(data).hexdigest()
        path = self.root / sha[:2] / f"{sha}{extension_for(url, content_type)}"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a crash never leaves a truncated file under a valid name.
            from gknb.warehouse.publish import remove_stale, unique_temp

            if path.parent not in self._swept:  # once a crawl: a folder holds thousands of files
                remove_stale(path.parent, None)  # killed crawls' part files
                self._swept.add(path.parent)
            tmp = unique_temp(path)
            try:
                with open(tmp, "xb") as out:
                    out.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return sha, path


def extension_for(url: str, content_type: str | None) -> str:
    suffix = PurePosixPath(unquote(urlsplit(url).path)).suffix.lower()
    if suffix in _KNOWN_EXTENSIONS:
        return ".html" if suffix in (".htm", ".shtml") else suffix
    mime = (content_type or "").split(";")[0].strip().lower()
    return _TYPE_EXTENSIONS.get(mime, ".bin")

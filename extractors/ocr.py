"""OCR front end: scanned PDF pages and report images → the intermediate `Document`.

How a scanned page is read, and why:

1. The page is rendered grey with pypdfium2 (`OCR_DPI`; scans rarely carry more detail) and read
   by rapidocr, whose wheel carries its ONNX models: nothing is downloaded, ever. The engine is
   created once per process, on first use (`engine()`), because loading it costs about a second.
2. Paper is never fed perfectly straight. The skew is measured from the text itself (pairs of
   boxes on one printed line lean by the page's angle), the image is turned back and every box's
   corners are turned with it, so rows are horizontal again before anything is grouped.
3. The table's ruling lines are found in the straightened image (long thin runs of dark pixels)
   and turned into cells the way pdfplumber does it for vector lines; the grid is then the same
   `gknb.extractors.pdf_grid.Grid` a text PDF gives, so rowspans, stacked headers and tables continued
   on the next page behave exactly as in a text PDF. A page without ruling lines gets columns from
   the x-extents of the numbers and rows from their lines.
4. Every value cell keeps rapidocr's score as `Span.confidence`. A number read with a score below
   `MIN_DIGIT_CONFIDENCE` is never passed on as a number: its text becomes the
   `gknb.extractors.values.UNREADABLE` marker with what was read (`[unreadable: 6 @0.62]`), which the
   value parser reads as `missing` (so the report's warnings name the cell) and the document gets a
   note. A cell where ink is
   seen but no text was read is marked the same way, so a lost digit never turns into `blank`.

Coordinates in the intermediate form are PDF points (1/72 inch) of the page, as for text PDFs.
"""

from __future__ import annotations

import io
import math
import os
import re
import threading
from dataclasses import dataclass

from gknb.extractors.document import Block, Document, Paragraph, Span, TableRow
from gknb.extractors.errors import TooLarge, UnreadableDocument
# The marker of a value cell whose number cannot be trusted: `gknb.extractors.values` keeps the cell in
# its place among the row's values and parses it as `missing`, never as a number.
from gknb.extractors.values import UNREADABLE, is_page_number

# Rendering resolution. 150 dpi reads the digits of every report seen so far with scores ≥ 0.99
# and keeps a page under 5 s on one core; more pixels mostly cost recognition time.
OCR_DPI = 150
# Below this score a recognised number is not trusted (rapidocr misreads 9 as 6 now and then,
# usually with a score well under this).
MIN_DIGIT_CONFIDENCE = 0.90
POINTS_PER_INCH = 72.0

_DIGIT_RE = re.compile(r"[\d０-９]")

_engine = None
_engine_lock = threading.Lock()


# --------------------------------------------------------------------------------------------
# the engine


def engine():
    """The process's rapidocr engine, created on first use (models from the wheel, offline).

    `GKNB_OCR_THREADS` caps onnxruntime's threads (the benchmark measures one core with 1).
    """
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                from rapidocr import RapidOCR

                threads = int(os.environ.get("GKNB_OCR_THREADS", "0") or 0)
                params = {
                    # "The text detection result is empty" (a blank page) is a WARNING on stderr;
                    # `gknb extract`'s stderr is for its one-line errors.
                    "Global.log_level": "error",
                    # Keep every box: a weak digit must be seen (and marked unreadable), not dropped.
                    "Global.text_score": 0.0,
                    # Scans are upright; the 180° classifier only costs time.
                    "Global.use_cls": False,
                    # Find text on the page at most 1280 px on its long side (an A4 page at ~110
                    # dpi): a quarter less time, same boxes; recognition still reads the crops at
                    # full resolution.
                    "Det.limit_type": "max",
                    "Det.limit_side_len": 1280,
                }
                if threads > 0:
                    params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
                    params["EngineConfig.onnxruntime.inter_op_num_threads"] = 1
                _engine = RapidOCR(params=params)
    return _engine


@dataclass
class Box:
    """One recognised piece of text, corners straightened, in page points."""

    text: str
    score: float
    x0: float
    x1: float
    top: float
    bottom: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def is_value(self) -> bool:
        return is_value_text(self.text)


def is_value_text(text: str) -> bool:
    """A number (ASCII or full-width digits) or a nil word: the one vocabulary of values."""
    from gknb.extractors.values import is_value_token

    return is_value_token(text)


# --------------------------------------------------------------------------------------------
# public API


def ocr_pdf_pages(pdf_bytes: bytes, page_numbers: list[int], source: str, notes: list[str] | None = None) -> list[Block]:
    """Blocks (paragraphs and table rows) of the given 1-based pages of a PDF, read by OCR.

    `notes` (optional) receives the doubts (unreadable digits) for the report's warnings; the same
    doubts are also carried by the cells themselves (`UNREADABLE`, `Span.confidence`).
    """
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(pdf_bytes)
    except pdfium.PdfiumError as exc:
        raise UnreadableDocument(f"{source}: not a readable PDF ({exc})") from exc
    from gknb.settings import limits

    max_pixels = limits().max_image_pixels
    reader = _PageReader(source, notes if notes is not None else [])
    try:
        for number in page_numbers:
            if not 1 <= number <= len(pdf):
                continue
            page = pdf[number - 1]
            pixels = page.get_width() * page.get_height() * (OCR_DPI / POINTS_PER_INCH) ** 2
            if pixels > max_pixels:
                page.close()
                raise TooLarge(f"{source}: page {number} would render to {pixels:,.0f} pixels, over the limit "
                               f"of {max_pixels:,} (limits max_image_pixels)")
            try:
                bitmap = page.render(scale=OCR_DPI / POINTS_PER_INCH, grayscale=True)
                image = bitmap.to_numpy().copy()
                bitmap.close()
            finally:
                page.close()
            reader.read_page(_grey(image), number, OCR_DPI)
    finally:
        pdf.close()
    return reader.blocks


def read_image(data: bytes, source: str) -> Document:
    """A PNG or JPEG report page (one image, one page) as a Document."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    from gknb.settings import limits

    cap = limits()
    try:
        with Image.open(io.BytesIO(data)) as im:
            # The header's size is checked before a pixel is decoded: a 30000 x 30000 PNG is a few
            # hundred kilobytes and gigabytes once decoded.
            if im.width * im.height > cap.max_image_pixels:
                raise TooLarge(f"{source}: image of {im.width} x {im.height} pixels, over the limit of "
                               f"{cap.max_image_pixels:,} (limits max_image_pixels)")
            n_frames = getattr(im, "n_frames", 1)
            if n_frames > cap.max_pages:
                raise TooLarge(f"{source}: {n_frames} frames, over the limit of {cap.max_pages} pages (limits max_pages)")
            im = ImageOps.exif_transpose(im)
            frames = []
            for i in range(n_frames):
                im.seek(i)
                frames.append(im.convert("L"))
            dpi = im.info.get("dpi", (OCR_DPI, OCR_DPI))[0] or OCR_DPI
    except Image.DecompressionBombError as exc:
        raise TooLarge(f"{source}: image over Pillow's decompression-bomb limit ({_one_line(exc)})") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise UnreadableDocument(f"{source}: not a readable image ({_one_line(exc)})") from exc
    import numpy as np

    notes: list[str] = []
    reader = _PageReader(source, notes)
    # Coordinates are in points at the image's stated resolution (a sane one), else at OCR_DPI.
    base_dpi = float(dpi) if 50 <= float(dpi) <= 1200 else float(OCR_DPI)
    for number, frame in enumerate(frames, start=1):
        frame_dpi = base_dpi
        # Phone photos and 600 dpi scans are shrunk to ~2600 px on the long side first: more
        # pixels only cost recognition time.
        if max(frame.size) > 2600:
            factor = 2600 / max(frame.size)
            frame = frame.resize((round(frame.width * factor), round(frame.height * factor)))
            frame_dpi *= factor
        reader.read_page(np.asarray(frame), number, frame_dpi)
    return Document(source=source, format="ocr", blocks=reader.blocks, pages=len(frames), notes=notes)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200]


# --------------------------------------------------------------------------------------------
# one page


class _PageReader:
    """Reads pages in order, keeping what a table continued on the next page needs."""

    def __init__(self, source: str, notes: list[str]):
        self.source = source
        self.notes = notes
        self.blocks: list[Block] = []
        from gknb.extractors.pdf_grid import PageState

        self.state = PageState()  # table numbers and the table a next page may continue

    def read_page(self, image, number: int, dpi: float) -> None:
        import numpy as np

        image, specks = remove_specks(image)
        if specks:
            self.notes.append(f"OCR page {number}: {specks} specks of dust removed before reading")
        image, squared = rectify_perspective(image)
        if squared:
            self.notes.append(f"OCR page {number}: photographed at an angle; the table's frame squared "
                              "before reading")
        result = engine()(np.dstack([image] * 3) if image.ndim == 2 else image)
        raw = []
        if result.boxes is not None:
            for quad, text, score in zip(result.boxes, result.txts, result.scores):
                text = (text or "").strip()
                if text:
                    raw.append((np.asarray(quad, dtype=float), text, float(score)))
        angle = estimate_skew(raw)
        image = _rotate_image(image, angle) if abs(angle) > math.radians(0.02) else image
        h, w = image.shape[:2]
        scale = POINTS_PER_INCH / dpi
        boxes = [_straighten(quad, text, score, angle, (w / 2, h / 2), scale) for quad, text, score in raw]
        boxes = [b for b in boxes if not is_page_number(b.text)]
        ink = _Ink(image, scale, bridge=bool(specks))
        items = self._layout(boxes, ink, number)
        self.blocks.extend(items)

    # ---- layout: ruled grids, else borderless, else paragraphs

    def _layout(self, boxes: list[Box], ink: "_Ink", number: int) -> list[Block]:
        """Grids from the ruling lines (else one borderless grid), then the page laid out by
        `gknb.extractors.pdf_grid.lay_out_page`, the step text PDFs use too."""
        from gknb.extractors.pdf_grid import is_narrative, lay_out_page

        grids = [g for g in ink.ruled_grids(number) if g.ncols >= 2]
        placed: set[int] = set()
        for grid in grids:
            _fill(grid, boxes, placed)
        grids = [g for g in grids if any(c.text for c in g.cells)]
        outside = [b for i, b in enumerate(boxes) if i not in placed]
        table_grids = [g for g in grids if not is_narrative(g)]
        borderless = []
        if not table_grids:
            grid = _borderless_grid(number, outside)
            if grid is not None:
                table_grids = borderless = [grid]
                inside = {i for i, b in enumerate(outside) if grid.contains(b.cx, b.cy)}
                outside = [b for i, b in enumerate(outside) if i not in inside]
        items = lay_out_page(number, grids, table_grids, _text_line_objs(outside), self.state, borderless)
        blocks: list[Block] = []
        for _, item in items:
            if isinstance(item, Paragraph):
                blocks.append(item)
            else:
                row = self._table_row(*item, ink)
                if row is not None:
                    blocks.append(row)
        return blocks

    def _table_row(self, grid, r: int, ink: "_Ink") -> TableRow | None:
        """Row band r as a TableRow, as `gknb.extractors.pdf` makes it, plus each cell's OCR score.

        Group labels spanning rows are repeated on each row; a value spanning rows is given once.
        A value cell read with a low score, or an empty-looking cell with ink in it, gets
        `UNREADABLE` as its text.
        """
        spans = []
        has_value = any(c.text and is_value_text(c.text) for c in grid.row_cells(r))
        # Columns that hold numbers somewhere in the table: only there is an empty cell a value's place.
        value_cols = {c.c0 for c in grid.cells if c.text and is_value_text(c.text)}
        for cell in grid.row_cells(r):
            conf = getattr(cell, "ocr_confidence", None)
            text = cell.text
            if not text:
                # Nothing read: truly empty, or a mark the OCR missed? Ink decides, in value rows.
                if has_value and cell.r0 == r and cell.c0 in value_cols and ink.has_ink(cell):
                    text, conf = f"{UNREADABLE}: ink, nothing read]", 0.0
                    self._doubt(grid.page, r, "ink in a cell where nothing was read")
                else:
                    continue
            elif cell.r0 != r and not cell.is_label:
                continue
            elif _DIGIT_RE.search(text) and conf is not None and conf < MIN_DIGIT_CONFIDENCE and is_value_text(text):
                self._doubt(grid.page, r, f"number {text!r} read with confidence {conf:.2f}")
                text = f"{UNREADABLE}: {text} @{conf:.2f}]"
            spans.append(Span(text=text, col=cell.c0, colspan=cell.c1 - cell.c0,
                              x0=round(cell.x0, 1), x1=round(cell.x1, 1), confidence=conf))
        if not spans:
            return None
        return TableRow(cells=spans, page=grid.page, table=grid.table, grid=True)

    def _doubt(self, page: int, r: int, why: str) -> None:
        self.notes.append(f"OCR page {page}, table row {r + 1}: {why}; cell left missing")


# --------------------------------------------------------------------------------------------
# skew


def estimate_skew(raw: list[tuple]) -> float:
    """The page's skew in radians (positive: lines descend to the right), from its text boxes.

    Two boxes of similar height on one printed line lean by the page's angle; the median over all
    such pairs a few centimetres apart is robust to boxes from neighbouring lines.
    """
    import numpy as np

    if len(raw) < 4:
        return 0.0
    quads = np.array([q for q, _, _ in raw])  # n × 4 × 2, corners tl, tr, br, bl
    cx = quads[:, :, 0].mean(axis=1)
    cy = quads[:, :, 1].mean(axis=1)
    hgt = (quads[:, 3, 1] + quads[:, 2, 1] - quads[:, 0, 1] - quads[:, 1, 1]) / 2
    med_h = float(np.median(hgt)) or 1.0
    dx = cx[None, :] - cx[:, None]
    dy = cy[None, :] - cy[:, None]
    similar = np.abs(hgt[None, :] - hgt[:, None]) < 0.25 * med_h
    ok = similar & (dx > 4 * med_h) & (dx < 30 * med_h) & (np.abs(dy) < 0.6 * med_h)
    if ok.sum() < 5:
        return 0.0
    angles = np.arctan2(dy[ok], dx[ok])
    angle = float(np.median(angles))
    return angle if abs(angle) < math.radians(5) else 0.0


# Isolated dark pixels (no dark neighbour) above this share of the page: the scan is speckled
# (dust, a dirty glass). A clean scan or render has next to none: every stroke and rule is wider.
SPECKLE_SHARE = 0.0005


def remove_specks(image):
    """(image, how many specks): single dark pixels with no dark neighbour whitened, single light
    pixels inside ink darkened, on a speckled page only. A speck beside a digit was read as part
    of it (`1` as `10`, score 0.998); a stroke or a rule is never a lone pixel, so nothing printed
    is touched, and a clean page is returned as it came."""
    import cv2
    import numpy as np

    dark = (image < 128).astype(np.uint8)
    neighbours = cv2.filter2D(dark, -1, np.ones((3, 3), np.float32), borderType=cv2.BORDER_CONSTANT) - dark
    lone_dark = (dark == 1) & (neighbours == 0)
    count = int(lone_dark.sum())
    if count < SPECKLE_SHARE * image.size:
        return image, 0
    lone_light = (dark == 0) & (neighbours == 8)
    out = image.copy()
    out[lone_dark] = 255
    out[lone_light] = 0
    return out, count


# A table frame whose opposite sides differ in length by more than this share was photographed at
# an angle (a flat scan turned a little keeps them equal within a pixel or two).
MIN_PERSPECTIVE = 0.015


def rectify_perspective(image):
    """(image, squared): a page photographed at an angle, its table's frame made rectangular.

    The frame is the largest four-cornered outline of the page's ruling lines (long thin dark runs,
    found as for the grid). When its top and bottom edges differ in length by more than
    `MIN_PERSPECTIVE` and its sides lean in towards the narrower one, the page is warped so that the frame becomes the
    rectangle of its mean width and height, and the rows and columns are straight again; a scan,
    straight or turned, has equal opposite sides and is returned untouched.
    """
    import cv2
    import numpy as np

    h, w = image.shape[:2]
    dark = cv2.threshold(flatten_lighting(image), 170, 255, cv2.THRESH_BINARY_INV)[1]
    lines = cv2.morphologyEx(dark, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(25, w // 40), 1)))
    lines |= cv2.morphologyEx(dark, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(25, h // 60))))
    lines = cv2.dilate(lines, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)))
    contours, _ = cv2.findContours(lines, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    # the page's tables together (two tables of one width stacked show the trapezoid better than
    # either alone); the convex hull drops the notches of rules that stop short
    tables = [c for c in contours if cv2.contourArea(c) >= 0.03 * w * h]
    if not tables:
        return image, False
    hull = cv2.convexHull(np.concatenate(tables))
    if cv2.contourArea(hull) < 0.15 * w * h:
        return image, False
    quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
    if len(quad) != 4:
        return image, False
    pts = quad.reshape(4, 2).astype(np.float32)
    s, d = pts.sum(axis=1), np.diff(pts, axis=1).ravel()
    tl, br, tr, bl = pts[np.argmin(s)], pts[np.argmax(s)], pts[np.argmin(d)], pts[np.argmax(d)]
    top, bottom = np.linalg.norm(tr - tl), np.linalg.norm(br - bl)
    left, right = np.linalg.norm(bl - tl), np.linalg.norm(br - tr)
    if min(top, bottom, left, right) < 50:
        return image, False
    if abs(top - bottom) / max(top, bottom) <= MIN_PERSPECTIVE:
        return image, False
    # A view from below (or above) the page: both sides lean in towards the narrower edge, by
    # similar amounts, and the top and bottom edges stay near level. A frame that only looks
    # uneven (a corner of the table printed without its rule) fails this and is left alone.
    narrower_top = top < bottom
    lean_left = (tl[0] - bl[0]) if narrower_top else (bl[0] - tl[0])
    lean_right = (br[0] - tr[0]) if narrower_top else (tr[0] - br[0])
    if lean_left <= 0 or lean_right <= 0 or max(lean_left, lean_right) > 3 * min(lean_left, lean_right):
        return image, False
    if max(abs(tr[1] - tl[1]) / top, abs(br[1] - bl[1]) / bottom) > 0.05:
        return image, False
    # Both sides of the frame must be rules: tables of different widths stacked make a trapezoid
    # too, but its slanted sides cross blank paper. (Top and bottom need not be: a table cut by the
    # page break has no rule under its last row.)
    near = cv2.dilate(lines, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9)))
    for a, b in ((tr, br), (bl, tl)):
        samples = np.linspace(0.05, 0.95, 40)
        xs = np.clip((a[0] + (b[0] - a[0]) * samples).astype(int), 0, w - 1)
        ys = np.clip((a[1] + (b[1] - a[1]) * samples).astype(int), 0, h - 1)
        if (near[ys, xs] > 0).mean() < 0.75:
            return image, False
    width, height = (top + bottom) / 2, (left + right) / 2
    x0, y0 = float(min(tl[0], bl[0])), float(min(tl[1], tr[1]))
    target = np.array([[x0, y0], [x0 + width, y0], [x0 + width, y0 + height], [x0, y0 + height]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(np.array([tl, tr, br, bl], dtype=np.float32), target)
    return cv2.warpPerspective(image, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255), True


def _rotate_image(image, angle: float):
    import cv2

    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), math.degrees(angle), 1.0)
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)


def _straighten(quad, text: str, score: float, angle: float, centre: tuple[float, float], scale: float) -> Box:
    """The box's corners turned by -angle about the image centre (as `_rotate_image` turns the
    image), as an upright box in points."""
    c, s = math.cos(angle), math.sin(angle)
    cx, cy = centre
    xs, ys = [], []
    for x, y in quad:
        xs.append(cx + c * (x - cx) + s * (y - cy))
        ys.append(cy - s * (x - cx) + c * (y - cy))
    return Box(text=text, score=score, x0=min(xs) * scale, x1=max(xs) * scale,
               top=min(ys) * scale, bottom=max(ys) * scale)


def _grey(image):
    import numpy as np

    if image.ndim == 3:
        image = image[:, :, :3].mean(axis=2).astype(np.uint8) if image.shape[2] >= 3 else image[:, :, 0]
    return np.ascontiguousarray(image)


# --------------------------------------------------------------------------------------------
# ruling lines and ink


def flatten_lighting(image):
    """The page with its paper made evenly white: each pixel divided by the paper's brightness
    around it (a 15-pixel maximum filter, wider than any stroke or rule, smoothed). A lamp on one
    side or a phone's shadow greys the paper below the ink threshold; after this only ink is dark.
    On an evenly lit scan it changes nothing (the paper is already 255 everywhere)."""
    import cv2
    import numpy as np

    paper = cv2.dilate(image, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15)))
    paper = cv2.blur(paper, (31, 31)).astype(np.float32)
    flat = image.astype(np.float32) * (255.0 / np.maximum(paper, 1.0))
    return np.clip(flat, 0, 255).astype(np.uint8)


class _Ink:
    """The straightened page image: its ruling lines, and whether a region holds any ink."""

    def __init__(self, image, scale: float, bridge: bool = False):
        import cv2

        self.scale = scale
        # on a speckled page light specks break the rules too: gaps of a pixel or two are bridged
        # along each rule's direction before the rules are looked for
        self.bridge = bridge
        self.dark = cv2.threshold(flatten_lighting(image), 170, 255, cv2.THRESH_BINARY_INV)[1]

    def edges(self) -> list[dict]:
        """Horizontal and vertical ruling segments as pdfplumber edge dicts, in points."""
        import cv2

        h, w = self.dark.shape
        out = []
        for orient, kernel in (("h", (max(25, w // 40), 1)), ("v", (1, max(25, h // 60)))):
            dark = self.dark
            if self.bridge:
                along = (5, 1) if orient == "h" else (1, 5)
                dark = cv2.morphologyEx(dark, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, along))
            lines = cv2.morphologyEx(dark, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, kernel))
            n, _, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
            for i in range(1, n):
                x, y, bw, bh, _ = stats[i]
                if orient == "h" and bh <= 8 and bw >= kernel[0]:
                    yy = (y + bh / 2) * self.scale
                    out.append(_edge("h", x * self.scale, (x + bw) * self.scale, yy, yy))
                elif orient == "v" and bw <= 8 and bh >= kernel[1]:
                    xx = (x + bw / 2) * self.scale
                    out.append(_edge("v", xx, xx, y * self.scale, (y + bh) * self.scale))
        return out + _closing_edges(out)

    def ruled_grids(self, number: int) -> list:
        from pdfplumber.table import cells_to_tables, merge_edges

        # the edge → intersection → cell steps a text PDF's tables use (same cells, less work)
        from gknb.extractors.pdf_grid import edges_to_intersections, grid_from_cells, intersections_to_cells

        edges = self.edges()
        if not edges:
            return []
        edges = merge_edges(edges, snap_x_tolerance=3, snap_y_tolerance=3, join_x_tolerance=3, join_y_tolerance=3)
        cells = intersections_to_cells(edges_to_intersections(edges, x_tolerance=3, y_tolerance=3))
        grids = []
        for table in cells_to_tables(cells):
            grid = grid_from_cells(number, list(table))
            if grid is not None:
                grids.append(grid)
        grids.sort(key=lambda g: g.top)
        return grids

    def has_ink(self, cell) -> bool:
        """Dark pixels well inside the cell (its ruling lines excluded): something is printed."""
        s = self.scale
        pad = 3
        x0, x1 = int(cell.x0 / s) + pad, int(cell.x1 / s) - pad
        y0, y1 = int(cell.top / s) + pad, int(cell.bottom / s) - pad
        if x1 <= x0 or y1 <= y0:
            return False
        region = self.dark[y0:y1, x0:x1]
        # A digit at 150 dpi is ~40 dark pixels; specks and line remnants are fewer.
        return int((region > 0).sum()) >= 25


def _closing_edges(edges: list[dict], min_length: float = 40.0, tol: float = 3.0) -> list[dict]:
    """The missing bottom (or top) rule of a table cut by a page break.

    Word processors leave a table open where the page breaks: its column rules run to the page's
    foot with no line under the last row, so that row has no closed cells. Where three or more
    long vertical rules end at the same height with no horizontal rule there, that rule is drawn.
    """
    vertical = [e for e in edges if e["orientation"] == "v" and e["bottom"] - e["top"] >= min_length]
    horizontal = [e for e in edges if e["orientation"] == "h"]
    out = []
    for end in ("bottom", "top"):
        groups: list[list[dict]] = []
        for e in sorted(vertical, key=lambda e: e[end]):
            if groups and abs(e[end] - groups[-1][-1][end]) <= tol:
                groups[-1].append(e)
            else:
                groups.append([e])
        for group in groups:
            if len(group) < 3:
                continue
            y = sum(e[end] for e in group) / len(group)
            x0, x1 = min(e["x0"] for e in group), max(e["x1"] for e in group)
            closed = any(abs(h["top"] - y) <= tol and h["x0"] <= x0 + tol and h["x1"] >= x1 - tol for h in horizontal)
            if not closed:
                out.append(_edge("h", x0, x1, y, y))
    return out


def _edge(orientation: str, x0: float, x1: float, top: float, bottom: float) -> dict:
    return {"orientation": orientation, "x0": x0, "x1": x1, "top": top, "bottom": bottom,
            "width": x1 - x0, "height": bottom - top, "object_type": "line"}


# --------------------------------------------------------------------------------------------
# boxes into grids


def _fill(grid, boxes: list[Box], placed: set[int]) -> None:
    """Each box into the cell under its centre (a one-slot cell where the ruling has none); the
    cell's text is its boxes' lines joined, its confidence the lowest score among them."""
    from bisect import bisect_right

    from gknb.extractors.pdf_grid import GridCell

    members: dict[int, list[Box]] = {}
    cells_by_id = {}
    for i, box in enumerate(boxes):
        if i in placed or not grid.contains(box.cx, box.cy):
            continue
        c = min(max(bisect_right(grid.xs, box.cx) - 1, 0), grid.ncols - 1)
        r = min(max(bisect_right(grid.ys, box.cy) - 1, 0), grid.nrows - 1)
        cell = grid.slots.get((r, c))
        if cell is None:
            cell = GridCell(r, r + 1, c, c + 1, grid.xs[c], grid.ys[r], grid.xs[c + 1], grid.ys[r + 1])
            grid.cells.append(cell)
            grid.slots[(r, c)] = cell
        members.setdefault(id(cell), []).append(box)
        cells_by_id[id(cell)] = cell
        placed.add(i)
    for key, group in members.items():
        cell = cells_by_id[key]
        cell.text = _join_lines(group)
        cell.lines = len(_lines(group))
        cell.ocr_confidence = min(b.score for b in group)


def _lines(boxes: list[Box]) -> list[list[Box]]:
    """Boxes grouped into printed lines (vertical overlap), top to bottom, each left to right."""
    rows: list[list[Box]] = []
    for b in sorted(boxes, key=lambda b: (b.top, b.x0)):
        if rows:
            last = rows[-1]
            top = min(x.top for x in last)
            bottom = max(x.bottom for x in last)
            if top <= b.cy <= bottom:
                last.append(b)
                continue
        rows.append([b])
    for row in rows:
        row.sort(key=lambda b: b.x0)
    return rows


def _join_lines(boxes: list[Box]) -> str:
    from gknb.extractors.pdf_grid import normalize_label

    # Two boxes on one line stay apart ("1 0" is not a number, so never silently "10").
    return normalize_label("\n".join(" ".join(b.text for b in row) for row in _lines(boxes)))


def _text_line_objs(boxes: list[Box]):
    """The boxes outside the tables as `pdf_grid.Line`s (text, extent), top to bottom."""
    from gknb.extractors.pdf_grid import Line

    out = []
    for row in _lines(boxes):
        text = " ".join(b.text for b in row).strip()
        if text:
            out.append(Line(text=text, x0=min(b.x0 for b in row), x1=max(b.x1 for b in row),
                            top=min(b.top for b in row), bottom=max(b.bottom for b in row)))
    return out


def _borderless_grid(number: int, boxes: list[Box]):
    """A grid for a table printed without ruling lines, from the boxes of the lines that hold
    numbers: columns from the numbers' x-extents, one row per line with numbers; label-only lines
    in between join the nearest such row. OCR boxes are already separate tokens, so two numbers
    are never merged into one."""
    from gknb.extractors.pdf_grid import Grid, GridCell, normalize_label

    lines = _lines(boxes)
    value_line = [len(row) > 1 and row[-1].is_value for row in lines]
    idx = [i for i, v in enumerate(value_line) if v]
    if len(idx) < 2:
        return None
    first, last = idx[0], idx[-1]
    region = lines[first:last + 1]
    values = [b for row in region for b in row if b.is_value and b is not row[0]]
    if len(values) < 4:
        return None
    bands: list[list[float]] = []
    for b in sorted(values, key=lambda b: b.x0):
        if bands and b.x0 <= bands[-1][1] + 1.5:
            bands[-1][1] = max(bands[-1][1], b.x1)
        else:
            bands.append([b.x0, b.x1])
    left = min(b.x0 for row in region for b in row) - 1
    right = max(b.x1 for row in region for b in row) + 1
    xs = [left, bands[0][0] - 2] + [(a[1] + b[0]) / 2 for a, b in zip(bands, bands[1:])] + [right]
    xs = sorted(set(xs))
    value_rows = [i for i, row in enumerate(region) if any(b.is_value and b.x0 >= bands[0][0] - 2 for b in row)]
    owner = {}
    for i, row in enumerate(region):
        if i in value_rows:
            owner[i] = i
            continue
        mid = sum(b.cy for b in row) / len(row)
        owner[i] = min(value_rows, key=lambda j: abs(sum(b.cy for b in region[j]) / len(region[j]) - mid))
    ordered = sorted(set(owner.values()))
    ys = [min(b.top for b in region[i]) for i in ordered] + [max(b.bottom for row in region for b in row)]
    grid = Grid(page=number, xs=xs, ys=ys, cells=[], ruled=False)
    from bisect import bisect_right

    for ri, lead in enumerate(ordered):
        by_col: dict[int, list[Box]] = {}
        for i in (i for i in range(len(region)) if owner[i] == lead):
            for b in region[i]:
                c = min(max(bisect_right(xs, b.cx) - 1, 0), len(xs) - 2)
                by_col.setdefault(c, []).append(b)
        for c, group in sorted(by_col.items()):
            cell = GridCell(ri, ri + 1, c, c + 1, xs[c], ys[ri], xs[c + 1], ys[ri + 1])
            cell.text = normalize_label(_join_lines(group))
            cell.ocr_confidence = min(b.score for b in group)
            grid.cells.append(cell)
            grid.slots[(ri, c)] = cell
    return grid


__all__ = ["ocr_pdf_pages", "read_image", "engine", "estimate_skew", "UNREADABLE", "MIN_DIGIT_CONFIDENCE", "OCR_DPI"]

"""Scanned twins: a text PDF turned into an image-only PDF, as a scanner would deliver it.

A twin has the same printed numbers as its text original, so the original's expected cells judge
the OCR path too. Each page is rendered grey at a scanner's resolution, turned by a small angle
(paper is never fed perfectly straight) and saved as an image; the twin has no text layer at all.
"""

from __future__ import annotations

from pathlib import Path

PDF_POINTS_PER_INCH = 72


def render_scanned_pages(pdf_path: str | Path, dpi: int = 150, angle: float = 0.6) -> list:
    """The pages of `pdf_path` as grey PIL images at `dpi`, each turned by `angle` degrees."""
    import pypdfium2 as pdfium
    from PIL import Image

    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        images = []
        for index in range(len(pdf)):
            page = pdf[index]
            image = page.render(scale=dpi / PDF_POINTS_PER_INCH, grayscale=True).to_pil().convert("L")
            page.close()
            if angle:
                # Counter-clockwise by `angle`, same canvas, white where the paper moved away.
                image = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
            images.append(image)
        return images
    finally:
        pdf.close()


def make_scanned_twin(pdf_path: str | Path, out_path: str | Path, dpi: int = 150, angle: float = 0.6) -> Path:
    """Write the image-only twin of the text PDF `pdf_path` to `out_path` and return that path."""
    images = render_scanned_pages(pdf_path, dpi=dpi, angle=angle)
    if not images:
        raise ValueError(f"{pdf_path}: no pages")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # `resolution` keeps the page size of the original (pixels / dpi inches).
    images[0].save(out_path, "PDF", save_all=True, append_images=images[1:], resolution=float(dpi), quality=90)
    return out_path


# --------------------------------------------------------------------------------------------
# Harder scans (issue 13.8): what office scanners and phones deliver beyond a clean twin.

# name -> (dpi, angle in degrees, degradations applied in order). Each is a form seen in
# published reports: a cheap scanner at 100-110 dpi, paper fed 1-2 degrees off, a lamp lighting
# one side, dust, a scan saved as a heavily compressed JPEG, a phone photo taken at an angle.
HARD_VARIANTS: dict[str, tuple[int, float, tuple[str, ...]]] = {
    "dpi100": (100, 0.4, ()),
    "dpi110_skew2": (110, -2.0, ()),
    "skew1_5": (150, 1.5, ()),
    "uneven_light": (150, 0.8, ("uneven_light",)),
    "speckle": (150, -0.5, ("speckle",)),
    "jpeg_q25": (150, 1.0, ("jpeg",)),
    "phone_photo": (150, 0.0, ("perspective", "uneven_light", "jpeg")),
}


def degrade(image, steps: tuple[str, ...], seed: int = 0):
    """Apply the named degradations to a grey PIL image (deterministic for a seed)."""
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    for step in steps:
        if step == "uneven_light":
            # A lamp on one side: brightness falls from 1.0 to 0.62 across the page, the paper
            # goes grey on the far side while the ink stays dark.
            a = np.asarray(image, dtype=np.float32)
            h, w = a.shape
            ramp = np.linspace(1.0, 0.62, w, dtype=np.float32)[None, :] * np.linspace(1.0, 0.9, h, dtype=np.float32)[:, None]
            image = Image.fromarray(np.clip(a * ramp, 0, 255).astype(np.uint8))
        elif step == "speckle":
            # Dust: 0.4% of the pixels black, 0.4% white.
            a = np.asarray(image).copy()
            noise = rng.random(a.shape)
            a[noise < 0.004] = 0
            a[noise > 0.996] = 255
            image = Image.fromarray(a)
        elif step == "jpeg":
            buf = io.BytesIO()
            image.save(buf, "JPEG", quality=25)
            image = Image.open(io.BytesIO(buf.getvalue())).convert("L")
        elif step == "perspective":
            # A phone held a little off the page's axis: the top edge 6% narrower than the bottom.
            w, h = image.size
            d = 0.03 * w
            # PIL's perspective maps output pixels to input points (8 coefficients from 4 pairs).
            src = [(0, 0), (w, 0), (w, h), (0, h)]
            dst = [(d, 0), (w - d, 0.01 * h), (w, h), (0, h - 0.01 * h)]
            coeffs = _perspective_coeffs(dst, src)
            image = image.transform((w, h), Image.Transform.PERSPECTIVE, coeffs,
                                    resample=Image.Resampling.BICUBIC, fillcolor=255)
        else:
            raise ValueError(f"unknown degradation {step!r}")
    return image


def _perspective_coeffs(dst, src):
    import numpy as np

    rows = []
    rhs = []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs.extend([u, v])
    return [float(c) for c in np.linalg.solve(np.array(rows, dtype=float), np.array(rhs, dtype=float))]


def make_hard_scan(pdf_path: str | Path, out_path: str | Path, variant: str, seed: int = 0) -> Path:
    """Write the image-only twin of `pdf_path` degraded as `HARD_VARIANTS[variant]` says."""
    dpi, angle, steps = HARD_VARIANTS[variant]
    images = [degrade(im, steps, seed=seed + i) for i, im in enumerate(render_scanned_pages(pdf_path, dpi=dpi, angle=angle))]
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(out_path, "PDF", save_all=True, append_images=images[1:], resolution=float(dpi), quality=90)
    return out_path

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

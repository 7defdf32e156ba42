"""QR codes and Code128 bar codes for asset labels, cards and room door lists (AST-1, AST-2, AST-4).

What a label carries is exactly the asset code (资产编号, domain-rules.md §2.5: "a QR-code label
carrying the 资产编号"), nothing else, so any scanner (the stocktake page, a USB wedge scanner, a
phone) reads the code itself. A room's door list carries ``ROOM:<room code>`` so that a stocktake
can tell "now counting room X" from "found asset X": ``parse_scan`` makes that distinction.

Both symbols are made as small SVG documents (one path), which Typst draws as vectors: sharp at
any printer resolution.
"""

from __future__ import annotations

import io
from functools import lru_cache

ROOM_PREFIX = "ROOM:"
QR_BORDER = 2  # quiet zone in modules inside the SVG; labels add white space around it
CODE128_QUIET = 10  # quiet zone in modules on each side (ISO/IEC 15417 asks for 10)


def room_payload(room_code: str) -> str:
    """What the QR of a room's door list carries: ``ROOM:`` and the room code, e.g. ``ROOM:JX-301``."""
    return f"{ROOM_PREFIX}{room_code}"


def parse_scan(text: str) -> tuple[str, str]:
    """("room", room code) for a door-list QR, else ("asset", the code as scanned, trimmed)."""
    text = (text or "").strip()
    if text[: len(ROOM_PREFIX)].upper() == ROOM_PREFIX:
        return "room", text[len(ROOM_PREFIX):].strip()
    return "asset", text


@lru_cache(maxsize=4096)
def qr_svg(payload: str) -> str:
    """The QR code of ``payload`` as SVG text (error correction M, or better when it fits the same size)."""
    if not payload:
        raise ValueError("a QR code needs a payload")
    out = io.BytesIO()
    import segno  # imported when a label is drawn: its tables cost ~11 MB in every worker

    segno.make(payload, error="m", micro=False).save(
        out, kind="svg", border=QR_BORDER, xmldecl=False, svgns=True, nl=False, scale=1
    )
    return out.getvalue().decode("ascii")


@lru_cache(maxsize=4096)
def code128_svg(payload: str, height: int = 40) -> str:
    """The Code128 bar code of ``payload`` as SVG text: one path of bars, ``height`` modules high.

    The SVG is as many units wide as the symbol has modules (plus the quiet zones); the label scales
    it to its width. Raises ValueError for text Code128 cannot carry (outside Latin-1).
    """
    if not payload:
        raise ValueError("a bar code needs a payload")
    import barcode  # python-barcode, imported when a bar code is drawn: ~7 MB in every worker otherwise
    import barcode.errors

    try:
        modules = barcode.Code128(payload).build()[0]
    except (barcode.errors.BarcodeError, UnicodeError, ValueError, KeyError) as error:
        raise ValueError(f"{payload!r} cannot be written as Code128: {error}") from error
    parts = []
    x = CODE128_QUIET
    run_start = None
    for index, bit in enumerate(modules + "0"):
        if bit == "1" and run_start is None:
            run_start = index
        elif bit != "1" and run_start is not None:
            parts.append(f"M{x + run_start} 0h{index - run_start}v{height}h-{index - run_start}z")
            run_start = None
    width = len(modules) + 2 * CODE128_QUIET
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" preserveAspectRatio="none" shape-rendering="crispEdges">'
            f'<rect width="{width}" height="{height}" fill="#fff"/>'
            f'<path fill="#000" d="{"".join(parts)}"/></svg>')


def code128_fits(payload: str) -> bool:
    """Whether ``payload`` can be printed as Code128 (Latin-1 text only; Chinese codes need QR)."""
    try:
        code128_svg(payload)
    except ValueError:
        return False
    return True

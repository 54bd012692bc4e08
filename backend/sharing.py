"""QR codes of the addresses students open (drawn by segno, a maintained pure-Python library)."""

from __future__ import annotations

import io

import segno


def qr(text: str) -> segno.QRCode:
    return segno.make(text, error="m", micro=False)


def qr_terminal(text: str) -> str:
    """The QR code as text for a terminal: two modules per character, dark on light."""
    out = io.StringIO()
    qr(text).terminal(out=out, compact=True, border=2)
    return out.getvalue()


def qr_svg(text: str, scale: int = 6) -> str:
    out = io.BytesIO()
    qr(text).save(out, kind="svg", scale=scale, border=2, dark="#111", light="#fff",
                  xmldecl=False, title=text)
    return out.getvalue().decode()

"""README badges drawn here in shields.io's flat style: pure functions from a label, a message
and a colour to SVG markup, or to the JSON of shields.io's endpoint badge.

Text is measured the way shields measures it, with Verdana's advance widths at 11 px, so a
badge from here is as wide as the same badge from shields.io and its text is not squeezed.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

# Verdana's advance widths at 11 px (font units x 11 / 2048), for printable ASCII.
_WIDTH_GROUPS = {
    2.95: "'",
    3.02: "il",
    3.79: "j",
    3.87: " f",
    4.0: ",.",
    4.33: "!t",
    4.63: "I",
    4.69: "r",
    5.0: "()-/:;J[\\]|",
    5.05: '"',
    5.73: "cs",
    5.78: "z",
    6.0: "?",
    6.12: "L",
    6.32: "F",
    6.51: "kvxy",
    6.55: "e",
    6.61: "a",
    6.63: "P",
    6.68: "o",
    6.77: "Y",
    6.78: "T",
    6.85: "bdgpq",
    6.96: "Ehnu",
    6.98: "{}",
    6.99: "$*0123456789_`",
    7.52: "ASV",
    7.54: "BXZ",
    7.62: "K",
    7.65: "R",
    7.68: "C",
    7.99: "&",
    8.05: "U",
    8.23: "N",
    8.27: "H",
    8.48: "D",
    8.53: "G",
    8.66: "OQ",
    9.0: "#+<=>^w~",
    9.27: "M",
    10.7: "m",
    10.88: "W",
    11.0: "@",
    11.84: "%",
}
VERDANA_11PX = {char: width for width, chars in _WIDTH_GROUPS.items() for char in chars}
# Wide East Asian characters take a full em; anything else unknown is guessed as wide as "m",
# as shields guesses.
_FULL_EM = 11.0
_GUESS = VERDANA_11PX["m"]

HEIGHT = 20
PADDING = 5
LABEL_BACKGROUND = "#555"
NAMED_COLORS = {
    "brightgreen": "#4c1",
    "green": "#97ca00",
    "yellowgreen": "#a4a61d",
    "yellow": "#dfb317",
    "orange": "#fe7d37",
    "red": "#e05d44",
    "blue": "#007ec6",
    "grey": "#555",
    "gray": "#555",
    "lightgrey": "#9f9f9f",
    "lightgray": "#9f9f9f",
}
_HEX_COLOR = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
# Shields' threshold: on a lighter background the text turns dark.
_LIGHT_BACKGROUND = 0.69


def char_width(char: str) -> float:
    if char in VERDANA_11PX:
        return VERDANA_11PX[char]
    if unicodedata.combining(char):
        return 0.0
    base = unicodedata.normalize("NFD", char)[0]
    if base in VERDANA_11PX:
        return VERDANA_11PX[base]  # é is as wide as e
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return _FULL_EM
    return _GUESS


def text_width(text: str) -> float:
    return sum(char_width(char) for char in text)


def box_width(text: str) -> int:
    """Shields' width for a text: whole pixels, rounded up to odd so it centres on the grid."""
    width = int(text_width(text))
    return width if width % 2 else width + 1


def resolve_color(value: str | None, default: str) -> str:
    """A shields colour name or a hex colour (with or without `#`) as `#hex`; else the default.

    Only these shapes reach the markup, so a colour can never break out of its attribute.
    """
    name = (value or "").strip().lower()
    if name in NAMED_COLORS:
        return NAMED_COLORS[name]
    match = _HEX_COLOR.fullmatch(name)
    if match:
        return "#" + match.group(1)
    return NAMED_COLORS.get(default, default)


def brightness(color: str) -> float:
    digits = color.lstrip("#")
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    red, green, blue = (int(digits[index : index + 2], 16) for index in (0, 2, 4))
    return (red * 299 + green * 587 + blue * 114) / 255_000


def printable(text: str) -> str:
    """Text as it may appear in SVG: control characters, surrogates and U+FFFE/U+FFFF, which
    XML forbids, left out."""
    return "".join(
        char
        for char in text
        if unicodedata.category(char) not in ("Cc", "Cs") and char not in "\ufffe\uffff"
    )


def _text(content: str, left: int, width: int, background: str) -> str:
    dark = brightness(background) > _LIGHT_BACKGROUND
    fill, shadow = ("#333", "#ccc") if dark else ("#fff", "#010101")
    # Drawn at ten times the size and scaled down, as shields does, for finer placement.
    x = 10 * (left + PADDING) + 5 * width
    length = 10 * width
    escaped = html.escape(content, quote=False)
    fill_attribute = "" if fill == "#fff" else f' fill="{fill}"'
    return (
        f'<text aria-hidden="true" x="{x}" y="150" fill="{shadow}" fill-opacity=".3"'
        f' transform="scale(.1)" textLength="{length}">{escaped}</text>'
        f'<text x="{x}" y="140" transform="scale(.1)"{fill_attribute}'
        f' textLength="{length}">{escaped}</text>'
    )


def flat_badge(label: str, message: str, color: str, label_color: str = LABEL_BACKGROUND) -> str:
    """The SVG of a flat badge: `label` on grey at the left, `message` on `color` at the right.

    `color` and `label_color` must come from `resolve_color`.
    """
    label, message = printable(label), printable(message)
    label_width = box_width(label) if label else 0
    message_width = box_width(message)
    left = label_width + 2 * PADDING if label else 0
    right = message_width + 2 * PADDING
    width = left + right
    title = html.escape(f"{label}: {message}" if label else message, quote=True)
    label_text = _text(label, 1, label_width, label_color) if label else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}"'
        f' role="img" aria-label="{title}"><title>{title}</title>'
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb"'
        ' stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{width}" height="{HEIGHT}" rx="3" fill="#fff"/>'
        '</clipPath><g clip-path="url(#r)">'
        f'<rect width="{left}" height="{HEIGHT}" fill="{label_color}"/>'
        f'<rect x="{left}" width="{right}" height="{HEIGHT}" fill="{color}"/>'
        f'<rect width="{width}" height="{HEIGHT}" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif"'
        ' text-rendering="geometricPrecision" font-size="110">'
        f"{label_text}{_text(message, left - 1 if label else 0, message_width, color)}</g></svg>"
    )


def shields_endpoint(label: str, message: str, color: str, cache_seconds: int) -> dict[str, Any]:
    """shields.io's endpoint-badge JSON; shields accepts `#`-less hex colours and names."""
    return {
        "schemaVersion": 1,
        "label": printable(label),
        "message": printable(message),
        "color": color.lstrip("#"),
        "cacheSeconds": cache_seconds,
    }

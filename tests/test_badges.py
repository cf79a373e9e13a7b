"""The badge drawing of hackatime/web/badges.py: shields' widths for known texts, escaping,
colours, and well-formed SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hackatime.web import badges

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def rects(root: ET.Element) -> list[dict[str, str]]:
    return [rect.attrib for rect in root.iter(f"{SVG}rect")]


def texts(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(f"{SVG}text"))


@pytest.mark.parametrize(
    ("label", "message", "left", "width"),
    [
        # shields.io's own badges, as img.shields.io draws them.
        pytest.param("build", "passing", 37, 88, id="build-passing"),
        pytest.param("license", "MIT", 47, 78, id="license-mit"),
    ],
)
def test_badge_sizes_equal_shields(label: str, message: str, left: int, width: int) -> None:
    root = parse(badges.flat_badge(label, message, "#4c1"))
    assert root.attrib["width"] == str(width)
    assert root.attrib["height"] == "20"
    background = [rect for rect in rects(root) if rect.get("fill") in ("#555", "#4c1")]
    assert [(rect.get("x", "0"), rect["width"]) for rect in background] == [
        ("0", str(left)),
        (str(left), str(width - left)),
    ]


@pytest.mark.parametrize(
    ("text", "shields_width"),
    [
        # Verdana 11px widths as shields' measuring table (anafanafo) gives them.
        pytest.param("hackatime", 57.02, id="label"),
        pytest.param("12 hrs 34 mins", 83.36, id="message"),
        pytest.param("Ünïcödé façade", 83.93, id="latin-1-accents"),
        pytest.param("WWW mmm", 68.61, id="wide-letters"),
        pytest.param("日本語", 33.0, id="cjk"),
        pytest.param("naïve café — ok", 88.21, id="dash-guessed"),
    ],
)
def test_text_widths_are_close_to_shields(text: str, shields_width: float) -> None:
    assert badges.text_width(text) == pytest.approx(shields_width, abs=0.5)


def test_box_width_is_whole_and_odd() -> None:
    # build: 26.7 px -> 27; passing: 41.75 -> 41; "ii": 6.04 -> 6 -> 7.
    assert [badges.box_width(text) for text in ("build", "passing", "ii", "")] == [27, 41, 7, 1]


def test_text_is_centred_in_its_half_at_shields_positions() -> None:
    root = parse(badges.flat_badge("build", "passing", "#4c1"))
    shadow_label, label, shadow_message, message = texts(root)
    # Drawn ten times larger, scaled down by .1: centres at 19.5 and 61.5 px.
    assert (label.get("x"), label.get("textLength")) == ("195", "270")
    assert (message.get("x"), message.get("textLength")) == ("615", "410")
    assert shadow_label.get("aria-hidden") == "true"
    assert shadow_message.get("y") == "150"
    assert label.text == shadow_label.text == "build"
    assert message.text == shadow_message.text == "passing"


def test_text_is_escaped() -> None:
    svg = badges.flat_badge('<script>"&', "a</text><svg onload=x>", "#4c1")
    root = parse(svg)
    assert "<script>" not in svg
    assert "</text><svg" not in svg
    assert texts(root)[1].text == '<script>"&'
    assert texts(root)[3].text == "a</text><svg onload=x>"
    assert root.attrib["aria-label"] == '<script>"&: a</text><svg onload=x>'
    assert root.find(f"{SVG}title").text == '<script>"&: a</text><svg onload=x>'  # type: ignore[union-attr]


def test_characters_xml_forbids_are_left_out() -> None:
    root = parse(badges.flat_badge("a\x00b\x1b[2J\ud800", "c\x07d\uffff\ufffe", "#4c1"))
    assert texts(root)[1].text == "ab[2J"
    assert texts(root)[3].text == "cd"


@given(
    label=st.text(st.characters(codec=None), max_size=40),
    message=st.text(st.characters(codec=None), max_size=40),
)
def test_any_text_makes_well_formed_svg(label: str, message: str) -> None:
    root = parse(badges.flat_badge(label, message, "#007ec6"))
    assert int(root.attrib["width"]) >= 11


def test_no_label_is_one_box_of_the_colour() -> None:
    root = parse(badges.flat_badge("", "12 hrs", "#007ec6"))
    shown = [rect for rect in rects(root) if rect.get("fill") in ("#555", "#007ec6")]
    assert [rect["width"] for rect in shown] == ["0", root.attrib["width"]]
    assert [text.text for text in texts(root)] == ["12 hrs", "12 hrs"]


@pytest.mark.parametrize(
    ("given_color", "expected"),
    [
        pytest.param("brightgreen", "#4c1", id="named"),
        pytest.param("Blue", "#007ec6", id="named-any-case"),
        pytest.param("lightgray", "#9f9f9f", id="american-grey"),
        pytest.param("ff69b4", "#ff69b4", id="hex-without-hash"),
        pytest.param("#abc", "#abc", id="short-hex"),
        pytest.param(None, "#007ec6", id="absent-is-default"),
        pytest.param("", "#007ec6", id="empty-is-default"),
        pytest.param('red" onload="x', "#007ec6", id="attribute-breakout-is-default"),
        pytest.param("url(#s)", "#007ec6", id="css-is-default"),
        pytest.param("12345", "#007ec6", id="five-digits-is-default"),
    ],
)
def test_colours(given_color: str | None, expected: str) -> None:
    assert badges.resolve_color(given_color, "blue") == expected


@pytest.mark.parametrize(
    ("background", "text_fill"),
    [
        pytest.param("#007ec6", None, id="dark-background-white-text"),
        pytest.param("#4c1", None, id="brightgreen-white-text"),
        pytest.param("#dfb317", None, id="yellow-white-text"),
        pytest.param("#ffffff", "#333", id="white-background-dark-text"),
        pytest.param("#ff0", "#333", id="light-yellow-dark-text"),
    ],
)
def test_text_colour_follows_the_background(background: str, text_fill: str | None) -> None:
    root = parse(badges.flat_badge("a", "b", background))
    message = texts(root)[3]
    assert message.get("fill") == text_fill  # None: the white of the group around the text


def test_colours_reach_the_boxes() -> None:
    root = parse(badges.flat_badge("a", "b", "#ff69b4", label_color="#123456"))
    fills = [rect.get("fill") for rect in rects(root)]
    assert "#ff69b4" in fills
    assert "#123456" in fills


def test_shields_endpoint_json() -> None:
    assert badges.shields_endpoint("hack\x00atime", "2 hrs", "#007ec6", 300) == {
        "schemaVersion": 1,
        "label": "hackatime",
        "message": "2 hrs",
        "color": "007ec6",
        "cacheSeconds": 300,
    }

"""Drawing BPMN as SVG, part 1: names, text layout and the small helpers the drawing uses.

Pure functions over lxml elements; no database. See engine/diagram/svg.py.
"""
from __future__ import annotations

from typing import TypeAlias

from lxml import etree

Element: TypeAlias = etree._Element  # an lxml element of the BPMN or BPMNDI tree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"

EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
SUBPROCESSES = {"subProcess", "transaction", "adHocSubProcess"}
FONT = "Arial, Helvetica, sans-serif"
FONT_SIZE = 12
CHAR_W = 6.0     # estimated average glyph width at FONT_SIZE
LABEL_CHAR_W = 5.6  # at the labels' 11 px
LINE_H = 14
PLANE_GAP = 60

HINTS = {"timerEventDefinition": "timer", "messageEventDefinition": "besked", "signalEventDefinition": "signal",
         "errorEventDefinition": "fejl", "escalationEventDefinition": "eskalering",
         "conditionalEventDefinition": "betingelse", "terminateEventDefinition": "afslut alt",
         "linkEventDefinition": "link", "compensateEventDefinition": "kompensation",
         "cancelEventDefinition": "annullér"}


def local(el: Element) -> str | None:
    return etree.QName(el).localname if isinstance(el.tag, str) else None


def num(v: float) -> str:
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.2f}".rstrip("0").rstrip(".")


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _split_at(word: str, limit: int) -> int:
    """Where to hyphenate an over-long word: after a Danish linking "s" if one is near, else at the limit."""
    for i in range(limit - 1, max(3, limit // 2) - 1, -1):
        if word[i - 1] == "s" and word[i] not in "s-" and len(word) - i >= 3:
            return i
    return limit - 1


def wrap(text: str, width: float, char_w: float = CHAR_W) -> list[str]:
    """Greedy word wrap by estimated width; long Danish compounds are split with a hyphen."""
    limit = max(4, int(width / char_w))
    lines: list[str] = []
    for paragraph in (text or "").split("\n"):
        line = ""
        for word in paragraph.split():
            while len(word) > limit:
                if line:
                    lines.append(line)
                    line = ""
                cut = _split_at(word, limit)
                lines.append(word[:cut] + "-")
                word = word[cut:]
            if not line:
                line = word
            elif len(line) + 1 + len(word) <= limit:
                line += " " + word
            else:
                lines.append(line)
                line = word
        if line:
            lines.append(line)
    return lines


def text_block(lines: list[str], cx: float, top: float, *, anchor: str = "middle", size: int = FONT_SIZE,
               extra: str = "") -> str:
    out = []
    for k, line in enumerate(lines):
        y = top + (k + 1) * LINE_H - 3
        out.append(f'<text x="{num(cx)}" y="{num(y)}" text-anchor="{anchor}" font-size="{size}"{extra}>'
                   f"{esc(line)}</text>")
    return "".join(out)


def loop_marker(el: Element) -> str | None:
    return next((local(c) for c in el if local(c) in ("multiInstanceLoopCharacteristics",
                                                      "standardLoopCharacteristics")), None)


class Bounds:
    def __init__(self, el: Element):
        self.x, self.y = float(el.get("x", 0)), float(el.get("y", 0))
        self.w, self.h = float(el.get("width", 0)), float(el.get("height", 0))

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

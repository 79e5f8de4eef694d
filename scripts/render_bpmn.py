"""Draw a BPMN 2.0 diagram as plain SVG, from its BPMNDI only.

    python -m scripts.render_bpmn FILE.bpmn OUT.svg
    python -m scripts.render_bpmn --all [--root processes] [--out docs/img]

--all renders every processes/**/*.bpmn to docs/img/<file name>.svg. Needs
lxml only; the output is deterministic (same file, same bytes), so pictures
can be checked in and compared in a test. A file without BPMNDI gives an
error: run `python -m scripts.bpmn_layout FILE` first.

Drawn: pools and lanes (names rotated on the left), tasks as rounded
rectangles with the name wrapped, events as circles (thin start, thick end,
double intermediate and boundary, dashed when non-interrupting) with a
clock, envelope, triangle, ... for their definition, gateways as diamonds
with X / + / O / pentagon markers, sequence flows as arrows along their
waypoints with their names, message flows dashed. Every further plane (the
content of a collapsed subprocess) is drawn below the main one.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from lxml import etree

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


def local(el) -> str | None:
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


def loop_marker(el) -> str | None:
    return next((local(c) for c in el if local(c) in ("multiInstanceLoopCharacteristics",
                                                      "standardLoopCharacteristics")), None)


class Bounds:
    def __init__(self, el):
        self.x, self.y = float(el.get("x", 0)), float(el.get("y", 0))
        self.w, self.h = float(el.get("width", 0)), float(el.get("height", 0))

    @property
    def cx(self):
        return self.x + self.w / 2

    @property
    def cy(self):
        return self.y + self.h / 2


class Renderer:
    def __init__(self, root):
        self.root = root
        self.by_id = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
        self.default_flows = {el.get("default") for el in self.by_id.values() if el.get("default")}

    # -- shapes --------------------------------------------------------------

    def pool_or_lane(self, el, b: Bounds, is_pool: bool) -> str:
        name = el.get("name") or ""
        cls = "pool" if is_pool else "lane"
        out = [f'<rect class="{cls}" x="{num(b.x)}" y="{num(b.y)}" width="{num(b.w)}" height="{num(b.h)}" '
               f'fill="{"#ffffff" if is_pool else "none"}" stroke="#000000" stroke-width="1.5"/>']
        if is_pool and self._has_lanes(el):
            out.append(f'<line x1="{num(b.x + 30)}" y1="{num(b.y)}" x2="{num(b.x + 30)}" y2="{num(b.y + b.h)}" '
                       f'stroke="#000000" stroke-width="1.5"/>')
        if name:
            lines = wrap(name, max(b.h - 10, 40))[:2]
            x = b.x + 15 - (len(lines) - 1) * LINE_H / 2
            for k, line in enumerate(lines):
                out.append(f'<text transform="translate({num(x + k * LINE_H)} {num(b.cy)}) rotate(-90)" '
                           f'text-anchor="middle" dominant-baseline="middle" font-size="{FONT_SIZE}">'
                           f"{esc(line)}</text>")
        return "".join(out)

    def _has_lanes(self, participant) -> bool:
        proc = self.by_id.get(participant.get("processRef"))
        return proc is not None and proc.find(f".//{{{BPMN_NS}}}lane") is not None

    def activity(self, el, b: Bounds, shape) -> str:
        kind = local(el)
        expanded = kind in SUBPROCESSES and shape.get("isExpanded") == "true"
        dashed = ' stroke-dasharray="4 3"' if el.get("triggeredByEvent") == "true" else ""
        width = "4" if kind == "callActivity" else "1.5"
        out = [f'<rect class="task" x="{num(b.x)}" y="{num(b.y)}" width="{num(b.w)}" height="{num(b.h)}" '
               f'rx="10" ry="10" fill="{"none" if expanded else "#ffffff"}" stroke="#000000" '
               f'stroke-width="{width}"{dashed}/>']
        if kind == "transaction":
            out.append(f'<rect x="{num(b.x + 3)}" y="{num(b.y + 3)}" width="{num(b.w - 6)}" height="{num(b.h - 6)}" '
                       f'rx="8" ry="8" fill="none" stroke="#000000" stroke-width="1"/>')
        name = el.get("name") or ""
        if expanded:
            out.append(text_block(wrap(name, b.w - 20), b.x + 10, b.y + 2, anchor="start"))
        else:
            lines = wrap(name, b.w - 8)
            icon = 6 if local(el) != "task" and kind not in SUBPROCESSES | {"callActivity"} else 0
            max_lines = max(1, int((b.h - 10 - icon) // LINE_H))
            if len(lines) > max_lines:
                lines = lines[:max_lines]
                lines[-1] = lines[-1].rstrip("-") + "…"
            top = b.cy - len(lines) * LINE_H / 2 + icon / 2
            if kind in SUBPROCESSES or loop_marker(el):
                top = min(top, b.y + b.h - 20 - len(lines) * LINE_H)
            out.append(text_block(lines, b.cx, top))
        out.append(self.type_marker(el, b))
        markers = []
        if kind in SUBPROCESSES and not expanded:
            markers.append("collapsed")
        loop = loop_marker(el)
        if loop:
            markers.append(loop)
        out.append(self.bottom_markers(el, b, markers))
        return "".join(out)

    def type_marker(self, el, b: Bounds) -> str:
        kind = local(el)
        x, y = b.x + 8, b.y + 8
        if kind == "userTask":  # head and shoulders
            return (f'<circle cx="{num(x + 6)}" cy="{num(y + 4)}" r="3.5" fill="none" stroke="#000000"/>'
                    f'<path d="M{num(x)} {num(y + 15)} q0 -7 6 -7 q6 0 6 7 z" fill="none" stroke="#000000"/>')
        if kind in ("serviceTask", "sendTask", "receiveTask", "scriptTask", "businessRuleTask", "manualTask"):
            tags = {"serviceTask": "⚙", "sendTask": "✉", "receiveTask": "✉", "scriptTask": "≡",
                    "businessRuleTask": "▦", "manualTask": "✋"}
            return f'<text x="{num(x)}" y="{num(y + 10)}" font-size="12">{tags[kind]}</text>'
        return ""

    def bottom_markers(self, el, b: Bounds, markers: list[str]) -> str:
        if not markers:
            return ""
        out = []
        total = len(markers) * 16 - 2
        x = b.cx - total / 2
        y = b.y + b.h - 18
        for m in markers:
            if m == "collapsed":
                out.append(f'<rect x="{num(x)}" y="{num(y)}" width="14" height="14" fill="none" stroke="#000000"/>'
                           f'<path d="M{num(x + 7)} {num(y + 3)} v8 M{num(x + 3)} {num(y + 7)} h8" stroke="#000000"/>')
            elif m == "multiInstanceLoopCharacteristics":
                mi = next(c for c in el if local(c) == m)
                if mi.get("isSequential") == "true":
                    d = f"M{num(x + 1)} {num(y + 3)} h12 M{num(x + 1)} {num(y + 7)} h12 M{num(x + 1)} {num(y + 11)} h12"
                else:
                    d = f"M{num(x + 3)} {num(y + 1)} v12 M{num(x + 7)} {num(y + 1)} v12 M{num(x + 11)} {num(y + 1)} v12"
                out.append(f'<path d="{d}" stroke="#000000" stroke-width="2"/>')
            else:  # standard loop: a circular arrow
                out.append(f'<path d="M{num(x + 4)} {num(y + 12)} a5 5 0 1 1 6 0" fill="none" stroke="#000000"/>'
                           f'<path d="M{num(x + 10)} {num(y + 12)} l0 -4 m0 4 l-4 0" stroke="#000000"/>')
            x += 16
        return "".join(out)

    def event(self, el, b: Bounds) -> str:
        kind = local(el)
        r = min(b.w, b.h) / 2
        cx, cy = b.cx, b.cy
        defs = [local(c) for c in el if local(c) and local(c).endswith("EventDefinition")]
        interrupting = not (el.get("cancelActivity") == "false" or el.get("isInterrupting") == "false")
        dash = "" if interrupting else ' stroke-dasharray="5 3"'
        title = ", ".join(HINTS.get(d, d) for d in defs)
        out = [f'<g class="event {kind}">']
        if title:
            out.append(f"<title>{esc(title)}</title>")
        if kind == "endEvent":
            out.append(f'<circle cx="{num(cx)}" cy="{num(cy)}" r="{num(r - 1.5)}" fill="#ffffff" stroke="#000000" '
                       f'stroke-width="4"/>')
        elif kind == "startEvent":
            out.append(f'<circle cx="{num(cx)}" cy="{num(cy)}" r="{num(r)}" fill="#ffffff" stroke="#000000" '
                       f'stroke-width="1.5"{dash}/>')
        else:
            out.append(f'<circle cx="{num(cx)}" cy="{num(cy)}" r="{num(r)}" fill="#ffffff" stroke="#000000" '
                       f'stroke-width="1.5"{dash}/>')
            out.append(f'<circle cx="{num(cx)}" cy="{num(cy)}" r="{num(r - 3)}" fill="none" stroke="#000000" '
                       f'stroke-width="1.5"{dash}/>')
        throwing = kind in ("endEvent", "intermediateThrowEvent")
        if defs:
            out.append(self.event_glyph(defs[0], cx, cy, throwing))
        out.append("</g>")
        return "".join(out)

    def event_glyph(self, definition: str, cx: float, cy: float, filled: bool) -> str:
        fill = "#000000" if filled else "none"
        inner = "#ffffff" if filled else "#000000"
        if definition == "timerEventDefinition":  # a clock
            ticks = "".join(f'<path d="M{num(cx + 9 * dx)} {num(cy + 9 * dy)} L{num(cx + 7 * dx)} {num(cy + 7 * dy)}" '
                            f'stroke="#000000"/>' for dx, dy in ((0, -1), (1, 0), (0, 1), (-1, 0)))
            return (f'<circle cx="{num(cx)}" cy="{num(cy)}" r="10" fill="#ffffff" stroke="#000000" stroke-width="1.5"/>'
                    + ticks + f'<path d="M{num(cx)} {num(cy)} L{num(cx)} {num(cy - 6)} M{num(cx)} {num(cy)} '
                    f'L{num(cx + 4)} {num(cy + 2)}" stroke="#000000" stroke-width="1.5"/>')
        if definition == "messageEventDefinition":  # an envelope
            x, y = cx - 8, cy - 5.5
            return (f'<rect x="{num(x)}" y="{num(y)}" width="16" height="11" fill="{fill}" stroke="#000000"/>'
                    f'<path d="M{num(x)} {num(y)} L{num(cx)} {num(cy + 1)} L{num(x + 16)} {num(y)}" fill="none" '
                    f'stroke="{inner}"/>')
        if definition == "signalEventDefinition":
            return (f'<path d="M{num(cx)} {num(cy - 9)} L{num(cx + 8)} {num(cy + 6)} L{num(cx - 8)} {num(cy + 6)} z" '
                    f'fill="{fill}" stroke="#000000"/>')
        if definition == "terminateEventDefinition":
            return f'<circle cx="{num(cx)}" cy="{num(cy)}" r="10" fill="#000000"/>'
        if definition == "errorEventDefinition":
            return (f'<path d="M{num(cx - 8)} {num(cy + 8)} L{num(cx - 4)} {num(cy - 7)} L{num(cx + 2)} {num(cy + 1)} '
                    f'L{num(cx + 8)} {num(cy - 8)} L{num(cx + 4)} {num(cy + 7)} L{num(cx - 2)} {num(cy - 1)} z" '
                    f'fill="{fill}" stroke="#000000"/>')
        if definition == "escalationEventDefinition":
            return (f'<path d="M{num(cx)} {num(cy - 9)} L{num(cx + 7)} {num(cy + 8)} L{num(cx)} {num(cy + 2)} '
                    f'L{num(cx - 7)} {num(cy + 8)} z" fill="{fill}" stroke="#000000"/>')
        if definition == "conditionalEventDefinition":
            lines = "".join(f'<path d="M{num(cx - 4)} {num(cy + k)} h8" stroke="#000000"/>' for k in (-4, -1, 2, 5))
            return (f'<rect x="{num(cx - 7)}" y="{num(cy - 8)}" width="14" height="16" fill="none" '
                    f'stroke="#000000"/>' + lines)
        if definition == "linkEventDefinition":
            return (f'<path d="M{num(cx - 8)} {num(cy - 3)} h8 v-5 l8 8 l-8 8 v-5 h-8 z" fill="{fill}" '
                    f'stroke="#000000"/>')
        return ""

    def gateway(self, el, b: Bounds) -> str:
        kind = local(el)
        cx, cy, hw, hh = b.cx, b.cy, b.w / 2, b.h / 2
        out = [f'<polygon class="gateway" points="{num(cx)},{num(b.y)} {num(b.x + b.w)},{num(cy)} {num(cx)},'
               f'{num(b.y + b.h)} {num(b.x)},{num(cy)}" fill="#ffffff" stroke="#000000" stroke-width="1.5"/>']
        k = min(hw, hh) / 25
        if kind == "exclusiveGateway":
            d = 8 * k
            out.append(f'<path d="M{num(cx - d)} {num(cy - d)} L{num(cx + d)} {num(cy + d)} M{num(cx + d)} {num(cy - d)} '
                       f'L{num(cx - d)} {num(cy + d)}" stroke="#000000" stroke-width="4"/>')
        elif kind == "parallelGateway":
            d = 12 * k
            out.append(f'<path d="M{num(cx)} {num(cy - d)} V{num(cy + d)} M{num(cx - d)} {num(cy)} H{num(cx + d)}" '
                       f'stroke="#000000" stroke-width="4"/>')
        elif kind == "inclusiveGateway":
            out.append(f'<circle cx="{num(cx)}" cy="{num(cy)}" r="{num(11 * k)}" fill="none" stroke="#000000" '
                       f'stroke-width="3"/>')
        elif kind == "eventBasedGateway":
            out.append(f'<circle cx="{num(cx)}" cy="{num(cy)}" r="{num(13 * k)}" fill="none" stroke="#000000"/>'
                       f'<circle cx="{num(cx)}" cy="{num(cy)}" r="{num(10.5 * k)}" fill="none" stroke="#000000"/>')
            pts = []
            for i in range(5):
                a = -math.pi / 2 + i * 2 * math.pi / 5
                pts.append(f"{num(round(cx + 6.5 * k * math.cos(a), 2))},{num(round(cy + 6.5 * k * math.sin(a), 2))}")
            out.append(f'<polygon points="{" ".join(pts)}" fill="none" stroke="#000000" stroke-width="1.5"/>')
        elif kind == "complexGateway":
            d = 11 * k
            e = d * 0.7
            out.append(f'<path d="M{num(cx)} {num(cy - d)} V{num(cy + d)} M{num(cx - d)} {num(cy)} H{num(cx + d)} '
                       f'M{num(cx - e)} {num(cy - e)} L{num(cx + e)} {num(cy + e)} M{num(cx + e)} {num(cy - e)} '
                       f'L{num(cx - e)} {num(cy + e)}" stroke="#000000" stroke-width="3"/>')
        return "".join(out)

    def other(self, el, b: Bounds) -> str:
        kind = local(el) or "?"
        if kind == "textAnnotation":
            text = "".join(t.text or "" for t in el if local(t) == "text")
            return (f'<path d="M{num(b.x + 10)} {num(b.y)} H{num(b.x)} V{num(b.y + b.h)} H{num(b.x + 10)}" '
                    f'fill="none" stroke="#000000"/>' + text_block(wrap(text, b.w - 8), b.x + 5, b.y + 2, anchor="start"))
        return (f'<rect x="{num(b.x)}" y="{num(b.y)}" width="{num(b.w)}" height="{num(b.h)}" fill="#ffffff" '
                f'stroke="#777777"/>' + text_block(wrap(el.get("name") or "", b.w), b.cx, b.y + b.h + 2))

    def label(self, el, b: Bounds, shape) -> str:
        name = el.get("name") or ""
        if not name.strip():
            return ""
        lb = shape.find(f"{{{BPMNDI_NS}}}BPMNLabel/{{{DC_NS}}}Bounds")
        if lb is not None:
            lbb = Bounds(lb)
            return text_block(wrap(name, max(lbb.w, 60), LABEL_CHAR_W), lbb.cx, lbb.y, size=11)
        return text_block(wrap(name, 90, LABEL_CHAR_W), b.cx, b.y + b.h + 4, size=11)

    # -- edges ---------------------------------------------------------------

    def edge(self, edge) -> str:
        el = self.by_id.get(edge.get("bpmnElement"))
        pts = [(float(w.get("x", 0)), float(w.get("y", 0))) for w in edge.findall(f"{{{DI_NS}}}waypoint")]
        if el is None or len(pts) < 2:
            return ""
        kind = local(el)
        d = " ".join(f"{num(x)},{num(y)}" for x, y in pts)
        if kind == "messageFlow":
            out = [f'<polyline class="message-flow" points="{d}" fill="none" stroke="#000000" stroke-width="1.5" '
                   f'stroke-dasharray="6 4" marker-start="url(#msg-start)" marker-end="url(#msg-end)"/>']
        elif kind in ("association", "dataInputAssociation", "dataOutputAssociation"):
            out = [f'<polyline points="{d}" fill="none" stroke="#000000" stroke-dasharray="2 3"/>']
        else:
            out = [f'<polyline class="sequence-flow" points="{d}" fill="none" stroke="#000000" stroke-width="1.5" '
                   f'marker-end="url(#arrow)"/>']
            if el.get("id") in self.default_flows:  # a slash near the start
                (x1, y1), (x2, y2) = pts[0], pts[1]
                length = max(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5, 1)
                ux, uy = (x2 - x1) / length, (y2 - y1) / length
                mx, my = x1 + ux * 10, y1 + uy * 10
                out.append(f'<path d="M{num(round(mx - 5 * ux - 5 * uy, 2))} {num(round(my - 5 * uy + 5 * ux, 2))} '
                           f'L{num(round(mx + 5 * ux + 5 * uy, 2))} {num(round(my + 5 * uy - 5 * ux, 2))}" '
                           f'stroke="#000000" stroke-width="1.5"/>')
        name = el.get("name") or ""
        if name.strip():
            lb = edge.find(f"{{{BPMNDI_NS}}}BPMNLabel/{{{DC_NS}}}Bounds")
            if lb is not None:
                lbb = Bounds(lb)
                out.append(text_block(wrap(name, max(lbb.w, 60), LABEL_CHAR_W), lbb.x, lbb.y, anchor="start", size=11))
            else:
                (x1, y1), (x2, y2) = pts[0], pts[1]
                out.append(text_block(wrap(name, 120, LABEL_CHAR_W), (x1 + x2) / 2 + 4, (y1 + y2) / 2 - LINE_H - 2,
                                      anchor="start", size=11))
        return "".join(out)

    # -- planes --------------------------------------------------------------

    def plane(self, plane) -> tuple[list[str], tuple[float, float, float, float]]:
        shapes = [s for s in plane if local(s) == "BPMNShape"]
        edges = [e for e in plane if local(e) == "BPMNEdge"]
        xs, ys = [], []
        layers: dict[int, list[str]] = {0: [], 1: [], 2: [], 3: [], 4: []}
        for s in shapes:
            el = self.by_id.get(s.get("bpmnElement"))
            bounds_el = s.find(f"{{{DC_NS}}}Bounds")
            if el is None or bounds_el is None:
                continue
            b = Bounds(bounds_el)
            xs += [b.x, b.x + b.w]
            ys += [b.y, b.y + b.h]
            lb = s.find(f"{{{BPMNDI_NS}}}BPMNLabel/{{{DC_NS}}}Bounds")
            if lb is not None:
                lbb = Bounds(lb)
                xs += [lbb.x, lbb.x + lbb.w]
                ys += [lbb.y, lbb.y + lbb.h]
            kind = local(el)
            if kind == "participant":
                layers[0].append(self.pool_or_lane(el, b, True))
            elif kind == "lane":
                layers[0].append(self.pool_or_lane(el, b, False))
            elif kind in SUBPROCESSES and s.get("isExpanded") == "true":
                layers[1].append(self.activity(el, b, s))
            elif kind in EVENTS:
                layers[3].append(self.event(el, b))
                layers[4].append(self.label(el, b, s))
            elif kind in GATEWAYS:
                layers[3].append(self.gateway(el, b))
                layers[4].append(self.label(el, b, s))
            elif kind in SUBPROCESSES or kind.endswith("Task") or kind in ("task", "callActivity"):
                layers[3].append(self.activity(el, b, s))
            else:
                layers[3].append(self.other(el, b))
        for e in edges:
            layers[2].append(self.edge(e))
            for w in e.findall(f"{{{DI_NS}}}waypoint"):
                xs.append(float(w.get("x", 0)))
                ys.append(float(w.get("y", 0)))
        if not xs:
            return [], (0, 0, 0, 0)
        parts = [p for k in sorted(layers) for p in layers[k] if p]
        return parts, (min(xs), min(ys), max(xs), max(ys))

    def svg(self) -> str:
        diagrams = self.root.findall(f"{{{BPMNDI_NS}}}BPMNDiagram")
        planes = [d.find(f"{{{BPMNDI_NS}}}BPMNPlane") for d in diagrams]
        planes = [p for p in planes if p is not None]
        blocks = []
        y = 0.0
        width = 0.0
        for k, plane in enumerate(planes):
            parts, (x0, y0, x1, y1) = self.plane(plane)
            if not parts:
                continue
            title = ""
            if blocks:
                y += PLANE_GAP
                el = self.by_id.get(plane.get("bpmnElement"))
                name = (el.get("name") if el is not None else None) or plane.get("bpmnElement") or ""
                title = (f'<text x="0" y="{num(y + 14)}" font-size="14" font-weight="bold">'
                         f"Underproces: {esc(name)}</text>")
                y += 28
            dx, dy = 10 - x0, y + 10 - y0
            blocks.append(title + f'<g transform="translate({num(dx)} {num(dy)})">' + "".join(parts) + "</g>")
            y += (y1 - y0) + 20
            width = max(width, x1 - x0 + 20)
        if not blocks:
            raise ValueError("the file has no BPMNDI (run: python -m scripts.bpmn_layout FILE)")
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{num(width)}" height="{num(y)}" '
                f'viewBox="0 0 {num(width)} {num(y)}" font-family="{FONT}" font-size="{FONT_SIZE}">')
        defs = ('<defs>'
                '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
                'orient="auto"><path d="M0 0 L10 5 L0 10 z" fill="#000000"/></marker>'
                '<marker id="msg-end" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" markerHeight="9" '
                'orient="auto"><path d="M0 0 L10 5 L0 10 z" fill="#ffffff" stroke="#000000"/></marker>'
                '<marker id="msg-start" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="7" markerHeight="7" '
                'orient="auto"><circle cx="5" cy="5" r="4" fill="#ffffff" stroke="#000000"/></marker>'
                '</defs>')
        background = f'<rect x="0" y="0" width="{num(width)}" height="{num(y)}" fill="#ffffff"/>'
        return "\n".join([head, defs, background, *blocks, "</svg>"]) + "\n"


def render(source: Path | bytes) -> str:
    raw = source.read_bytes() if isinstance(source, Path) else source
    root = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
    return Renderer(root).svg()


def svg_name(path: Path) -> str:
    return f"{path.stem}.svg"


def render_all(root: Path, out: Path) -> list[Path]:
    files = sorted(root.rglob("*.bpmn"))
    names = [svg_name(f) for f in files]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise ValueError(f"two diagrams would share a picture name: {', '.join(clashes)}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for f in files:
        target = out / svg_name(f)
        target.write_bytes(render(f).encode("utf-8"))
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.render_bpmn", description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", metavar="FILE", help="FILE.bpmn OUT.svg")
    ap.add_argument("--all", action="store_true", help="render every ROOT/**/*.bpmn to OUT/<name>.svg")
    ap.add_argument("--root", default="processes", help="with --all: where the diagrams are (default processes)")
    ap.add_argument("--out", default="docs/img", help="with --all: where the pictures go (default docs/img)")
    args = ap.parse_args(argv)
    if args.all:
        for path in render_all(Path(args.root), Path(args.out)):
            print(f"wrote {path}")
        return 0
    if len(args.files) != 2:
        ap.error("give FILE.bpmn OUT.svg, or --all")
    source, target = Path(args.files[0]), Path(args.files[1])
    target.write_bytes(render(source).encode("utf-8"))
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

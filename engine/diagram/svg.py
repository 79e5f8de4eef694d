"""Drawing BPMN as SVG from its BPMNDI: `render(xml_bytes, marks=None) -> str`.

Pure: BPMN XML in, SVG text out; no database, no files. Deterministic (the
same input gives the same bytes), so scripts/render_bpmn.py draws the
checked-in pictures in docs/img with it, and engine/diagram.py draws a case's
diagram with `marks` (engine/diagram/marks.py): completed elements, the
current ones and the sequence flows taken, plus a legend. The studio draws
its overlays the same way (engine/diagram/overlays.py). Without marks the
output is exactly the documentation picture.

Split for size: engine/diagram/text.py (names, text layout), engine/
diagram/shapes.py (shapes), this module (edges, planes, the document).
"""
from __future__ import annotations

from lxml import etree

from .marks import LEGEND_WIDTH, Overlay
from .shapes import Shapes
from .text import (
    BPMNDI_NS,
    DC_NS,
    DI_NS,
    EVENTS,
    FONT,
    FONT_SIZE,
    GATEWAYS,
    LABEL_CHAR_W,
    LINE_H,
    PLANE_GAP,
    SUBPROCESSES,
    Bounds,
    Element,
    esc,
    local,
    num,
    text_block,
    wrap,
)


def reminder_branches(by_id: dict) -> tuple[set[str], set[str]]:
    """(elements to leave out, boundary events to draw without their label): each reminder drawn as a
    non-interrupting timer on a task leading to a user task and straight on to an end event. On a case's
    picture that branch beside every task would double every box; the timer on the task stays."""
    flows = [el for el in by_id.values() if local(el) == "sequenceFlow"]
    incoming: dict[str, list[Element]] = {}
    outgoing: dict[str, list[Element]] = {}
    for flow in flows:
        incoming.setdefault(flow.get("targetRef") or "", []).append(flow)
        outgoing.setdefault(flow.get("sourceRef") or "", []).append(flow)
    hidden: set[str] = set()
    quiet: set[str] = set()
    for el_id, el in by_id.items():
        if local(el) != "userTask" or len(incoming.get(el_id, [])) != 1 or len(outgoing.get(el_id, [])) != 1:
            continue
        into, out = incoming[el_id][0], outgoing[el_id][0]
        source, end = by_id.get(into.get("sourceRef")), by_id.get(out.get("targetRef"))
        if (source is None or end is None or local(source) != "boundaryEvent" or local(end) != "endEvent"
                or source.get("cancelActivity") != "false" or len(incoming.get(end.get("id"), [])) != 1
                or not any(local(child) == "timerEventDefinition" for child in source)):
            continue
        hidden |= {el_id, end.get("id"), into.get("id"), out.get("id")}
        quiet.add(source.get("id"))
    return hidden, quiet


class Renderer(Shapes):
    def __init__(self, root: Element, marks: Overlay | None = None, *, hide_reminders: bool = False,
                 lane_names: dict[str, str] | None = None):
        self.root = root
        self.lane_names = lane_names or {}  # a lane named by a unit's key is labelled with the unit's name
        self.marks = marks
        self.by_id = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
        self.default_flows = {el.get("default") for el in self.by_id.values() if el.get("default")}
        self.hidden, self.quiet = reminder_branches(self.by_id) if hide_reminders else (set(), set())
        self.placed: list[tuple[float, float, float, float]] = []  # flow labels drawn on the current plane

    # -- edges ---------------------------------------------------------------

    def edge(self, edge: Element) -> str:
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
                lines, x, y = wrap(name, max(lbb.w, 60), LABEL_CHAR_W), lbb.x, lbb.y
            else:
                (x1, y1), (x2, y2) = pts[0], pts[1]
                lines, x, y = wrap(name, 120, LABEL_CHAR_W), (x1 + x2) / 2 + 4, (y1 + y2) / 2 - LINE_H - 2
            x, y = self._free_spot(lines, x, y)
            out.append(text_block(lines, x, y, anchor="start", size=11))
        return "".join(out)

    def _free_spot(self, lines: list[str], x: float, y: float) -> tuple[float, float]:
        """Where a flow's label goes: its own place, or the nearest place a line at a time below, then above,
        where it overlaps no shape, name or flow label drawn before it on this plane (two flows leaving a
        gateway side by side); its own place when none is free."""
        w, h = max(len(line) for line in lines) * LABEL_CHAR_W + 4, len(lines) * LINE_H
        for top in [y + k * LINE_H for k in range(9)] + [y - k * LINE_H for k in range(1, 9)]:
            if not any(x < px + pw and px < x + w and top < py + ph and py < top + h
                       for px, py, pw, ph in self.placed):
                y = top
                break
        self.placed.append((x, y, w, h))
        return x, y

    # -- planes --------------------------------------------------------------

    def plane(self, plane: Element) -> tuple[list[str], tuple[float, float, float, float]]:
        shapes = [s for s in plane if local(s) == "BPMNShape"]
        edges = [e for e in plane if local(e) == "BPMNEdge"]
        self.placed = []
        xs, ys = [], []
        layers: dict[int, list[str]] = {0: [], 1: [], 2: [], 3: [], 4: [], 5: []}
        for s in shapes:
            el = self.by_id.get(s.get("bpmnElement"))
            bounds_el = s.find(f"{{{DC_NS}}}Bounds")
            if el is None or bounds_el is None or el.get("id") in self.hidden:
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
            assert kind is not None  # by_id holds elements only (a str tag), never comments
            if kind not in ("participant", "lane") and not (kind in SUBPROCESSES and s.get("isExpanded") == "true"):
                self.placed.append((b.x, b.y, b.w, b.h))  # a flow's label keeps off the boxes and their names
                name = el.get("name") or ""
                if kind in EVENTS | GATEWAYS and name.strip():  # and off the names under events and gateways
                    box = Bounds(lb) if lb is not None else None
                    lines = wrap(name, max(box.w, 60) if box else 90, LABEL_CHAR_W)
                    w = max(len(line) for line in lines) * LABEL_CHAR_W
                    cx, top = (box.cx, box.y) if box else (b.cx, b.y + b.h + 4)
                    self.placed.append((cx - w / 2, top, w, len(lines) * LINE_H))
            if kind == "participant":
                layers[0].append(self.pool_or_lane(el, b, True))
            elif kind == "lane":
                layers[0].append(self.pool_or_lane(el, b, False))
            elif kind in SUBPROCESSES and s.get("isExpanded") == "true":
                layers[1].append(self.activity(el, b, s))
            elif kind in EVENTS:
                layers[3].append(self.event(el, b))
                if el.get("id") not in self.quiet:
                    layers[4].append(self.label(el, b, s))
            elif kind in GATEWAYS:
                layers[3].append(self.gateway(el, b))
                layers[4].append(self.label(el, b, s))
            elif kind in SUBPROCESSES or kind.endswith("Task") or kind in ("task", "callActivity"):
                layers[3].append(self.activity(el, b, s))
            else:
                layers[3].append(self.other(el, b))
            if self.marks is not None:  # above everything else, so a mark is never hidden
                layers[5].append(self.marks.shape(el, b, expanded=s.get("isExpanded") == "true"))
        for e in edges:
            if e.get("bpmnElement") in self.hidden:
                continue
            layers[2].append(self.edge(e))
            if self.marks is not None:
                layers[2].append(self.marks.flow(self.by_id.get(e.get("bpmnElement")), e))
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
        blocks: list = []
        y = 0.0
        width = 0.0
        for _k, plane in enumerate(planes):
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
        labelled = ""
        if self.marks is not None:
            legend, height = self.marks.legend(y + 10)
            blocks.append(legend)
            y += height + 10
            width = max(width, LEGEND_WIDTH)
            labelled = f' role="img" aria-label="{esc(self.marks.summary())}"'
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{num(width)}" height="{num(y)}" '
                f'viewBox="0 0 {num(width)} {num(y)}" font-family="{FONT}" font-size="{FONT_SIZE}"{labelled}>')
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


def parse(raw: bytes) -> Element:
    """The XML tree, parsed without entities or network access (the file comes from users)."""
    return etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))


def render(raw: bytes, marks: Overlay | None = None, *, hide_reminders: bool = False,
           lane_names: dict[str, str] | None = None) -> str:
    """SVG text of the file's diagram; ValueError if it has no BPMNDI. `hide_reminders`: leave out the
    reminder branches (`reminder_branches`), as a case's picture does; `lane_names`: unit key → name."""
    return Renderer(parse(raw), marks, hide_reminders=hide_reminders, lane_names=lane_names).svg()

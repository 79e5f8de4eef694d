"""Drawing BPMN as SVG, part 2: the shapes (pools, lanes, activities, events, gateways, labels).

`Shapes` is a mixin of engine.diagram.svg.Renderer, which provides `by_id`;
every method returns an SVG fragment as a string. Pure; no database.
"""
from __future__ import annotations

import math

from .text import (
    BPMN_NS,
    BPMNDI_NS,
    DC_NS,
    FONT_SIZE,
    HINTS,
    LABEL_CHAR_W,
    LINE_H,
    SUBPROCESSES,
    Bounds,
    Element,
    esc,
    local,
    loop_marker,
    num,
    text_block,
    wrap,
)


class Shapes:
    by_id: dict  # provided by engine.diagram.svg.Renderer, which mixes this in
    lane_names: dict[str, str]  # likewise: unit key → the unit's name, for lanes named by the key
    # -- shapes --------------------------------------------------------------

    def pool_or_lane(self, el: Element, b: Bounds, is_pool: bool) -> str:
        name = el.get("name") or ""
        if not is_pool:
            name = self.lane_names.get(name.strip(), name)
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

    def _has_lanes(self, participant: Element) -> bool:
        proc = self.by_id.get(participant.get("processRef"))
        return proc is not None and proc.find(f".//{{{BPMN_NS}}}lane") is not None

    def activity(self, el: Element, b: Bounds, shape: Element) -> str:
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

    def type_marker(self, el: Element, b: Bounds) -> str:
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

    def bottom_markers(self, el: Element, b: Bounds, markers: list[str]) -> str:
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

    def event(self, el: Element, b: Bounds) -> str:
        kind = local(el)
        r = min(b.w, b.h) / 2
        cx, cy = b.cx, b.cy
        defs = [name for c in el if (name := local(c)) and name.endswith("EventDefinition")]
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

    def gateway(self, el: Element, b: Bounds) -> str:
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

    def other(self, el: Element, b: Bounds) -> str:
        kind = local(el) or "?"
        if kind == "textAnnotation":
            text = "".join(t.text or "" for t in el if local(t) == "text")
            return (f'<path d="M{num(b.x + 10)} {num(b.y)} H{num(b.x)} V{num(b.y + b.h)} H{num(b.x + 10)}" '
                    f'fill="none" stroke="#000000"/>' + text_block(wrap(text, b.w - 8), b.x + 5, b.y + 2, anchor="start"))
        return (f'<rect x="{num(b.x)}" y="{num(b.y)}" width="{num(b.w)}" height="{num(b.h)}" fill="#ffffff" '
                f'stroke="#777777"/>' + text_block(wrap(el.get("name") or "", b.w), b.cx, b.y + b.h + 2))

    def label(self, el: Element, b: Bounds, shape: Element) -> str:
        name = el.get("name") or ""
        if not name.strip():
            return ""
        lb = shape.find(f"{{{BPMNDI_NS}}}BPMNLabel/{{{DC_NS}}}Bounds")
        if lb is not None:
            lbb = Bounds(lb)
            return text_block(wrap(name, max(lbb.w, 60), LABEL_CHAR_W), lbb.cx, lbb.y, size=11)
        return text_block(wrap(name, 90, LABEL_CHAR_W), b.cx, b.y + b.h + 4, size=11)

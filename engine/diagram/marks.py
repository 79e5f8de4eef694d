"""Marks on a drawn diagram: which steps a case has completed, where it is now, which flows it took.

Never by colour alone (WCAG 1.4.1): a completed element gets a solid thick
frame and a ✓ badge, a current one a dashed thick frame and a ▶ badge, each
with a <title> ("Udført: …", "Aktuelt trin: …") that screen readers and
hovering show; a flow taken is drawn thicker. A legend explains the three.
Colours meet 4.5:1 against white. Pure; no database.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .text import DI_NS, EVENTS, GATEWAYS, Bounds, Element, esc, local, num

DONE_COLOUR = "#1a7f37"     # green, 5.1:1 on white
CURRENT_COLOUR = "#0550ae"  # blue, 7.6:1 on white
LEGEND_WIDTH = 420  # one item per row, so a narrow diagram never cuts a text off
LEGEND_ROW = 32
LEGEND_HEIGHT = 3 * LEGEND_ROW + 8
_STATES = {"done": ("Udført", DONE_COLOUR, ""),
           "current": ("Aktuelt trin", CURRENT_COLOUR, ' stroke-dasharray="8 4"')}


class Overlay(Protocol):
    """What engine.diagram.svg.Renderer asks of marks: Marks here, and the studio's (engine.diagram.overlays)."""

    def shape(self, el: Element, b: Bounds, *, expanded: bool = False) -> str: ...

    def flow(self, el: Element | None, edge: Element) -> str: ...

    def legend(self, top: float) -> tuple[str, int]: ...

    def summary(self) -> str: ...


@dataclass(frozen=True)
class Marks:
    completed: frozenset[str] = frozenset()
    current: frozenset[str] = frozenset()
    taken: frozenset[str] = frozenset()  # sequence flow ids

    def state(self, element_id: str | None) -> str | None:
        if element_id in self.current:  # in a loop an element can be both: where the case is wins
            return "current"
        if element_id in self.completed:
            return "done"
        return None

    def shape(self, el: Element, b: Bounds, *, expanded: bool = False) -> str:
        kind = local(el)
        state = self.state(el.get("id"))
        if state is None or kind in ("participant", "lane"):
            return ""
        word, colour, dash = _STATES[state]
        title = f"{word}: {el.get('name') or el.get('id')}"
        return (f'<g class="mark mark-{state}" data-element="{esc(el.get("id"))}"><title>{esc(title)}</title>'
                f"{outline(kind, b, colour, dash)}{badge(b.x + b.w, b.y, state)}</g>")

    def flow(self, el: Element | None, edge: Element) -> str:
        if el is None or el.get("id") not in self.taken:
            return ""
        pts = " ".join(f"{num(float(w.get('x', 0)))},{num(float(w.get('y', 0)))}"
                       for w in edge.findall(f"{{{DI_NS}}}waypoint"))
        return (f'<polyline class="mark mark-taken" points="{pts}" fill="none" stroke="{DONE_COLOUR}" '
                f'stroke-width="4" stroke-opacity="0.8"><title>Gennemløbet</title></polyline>')

    def legend(self, top: float) -> tuple[str, int]:
        """The legend as an SVG group starting at `top`, and its height."""
        y = 18
        items = [
            (f'<rect x="0" y="{y - 12}" width="36" height="24" rx="6" fill="#ffffff" stroke="{DONE_COLOUR}" '
             f'stroke-width="4"/>{badge(36, y - 12, "done")}', "Udført trin (fuld ramme, ✓)"),
            (f'<rect x="0" y="{y - 12}" width="36" height="24" rx="6" fill="#ffffff" stroke="{CURRENT_COLOUR}" '
             f'stroke-width="4" stroke-dasharray="8 4"/>{badge(36, y - 12, "current")}',
             "Aktuelt trin: sagen venter her (stiplet ramme, ▶)"),
            (f'<path d="M0 {y} h36" stroke="{DONE_COLOUR}" stroke-width="4"/>', "Gennemløbet forbindelse (tyk linje)"),
        ]
        parts = [f'<g transform="translate(0 {row * LEGEND_ROW})">{sample}'
                 f'<text x="54" y="{y + 4}" font-size="12">{esc(text)}</text></g>'
                 for row, (sample, text) in enumerate(items)]
        group = (f'<g class="legend" transform="translate(10 {num(top)})"><title>Signaturforklaring</title>'
                 + "".join(parts) + "</g>")
        return group, LEGEND_HEIGHT

    def summary(self) -> str:
        return (f"Procesdiagram for sagen: {len(self.completed)} udførte trin og "
                f"{len(self.current)} aktuelle trin er markeret")


def outline(kind: str | None, b: Bounds, colour: str, dash: str) -> str:
    style = f'fill="none" stroke="{colour}" stroke-width="4"{dash}'
    if kind in EVENTS:
        return f'<circle cx="{num(b.cx)}" cy="{num(b.cy)}" r="{num(min(b.w, b.h) / 2 + 5)}" {style}/>'
    if kind in GATEWAYS:
        return (f'<polygon points="{num(b.cx)},{num(b.y - 6)} {num(b.x + b.w + 6)},{num(b.cy)} '
                f'{num(b.cx)},{num(b.y + b.h + 6)} {num(b.x - 6)},{num(b.cy)}" {style}/>')
    return (f'<rect x="{num(b.x - 5)}" y="{num(b.y - 5)}" width="{num(b.w + 10)}" height="{num(b.h + 10)}" '
            f'rx="13" ry="13" {style}/>')


def badge(x: float, y: float, state: str) -> str:
    """A round badge at (x, y): a drawn check mark or play triangle (no font glyph needed)."""
    colour = DONE_COLOUR if state == "done" else CURRENT_COLOUR
    circle = f'<circle cx="{num(x)}" cy="{num(y)}" r="10" fill="{colour}" stroke="#ffffff" stroke-width="1.5"/>'
    if state == "done":
        return circle + (f'<path d="M{num(x - 5)} {num(y)} l3.5 4 l6.5 -8" fill="none" stroke="#ffffff" '
                         f'stroke-width="2.5"/>')
    return circle + f'<path d="M{num(x - 3)} {num(y - 5.5)} l8 5.5 l-8 5.5 z" fill="#ffffff"/>'

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

The drawing itself lives in engine/diagram/svg.py (the web UI draws a case's
diagram with the same code, with its steps marked); this is its command line.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.diagram import svg as diagram_svg
from engine.diagram.text import (  # noqa: F401 - one set of names for both tools (scripts/bpmn_layout.py)
    BPMN_NS,
    BPMNDI_NS,
    DC_NS,
    DI_NS,
    EVENTS,
    GATEWAYS,
    LABEL_CHAR_W,
    SUBPROCESSES,
    wrap,
)


def render(source: Path | bytes) -> str:
    raw = source.read_bytes() if isinstance(source, Path) else source
    return diagram_svg.render(raw)


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

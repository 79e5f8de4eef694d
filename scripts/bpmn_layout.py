"""Write a complete BPMNDI section (the diagram's geometry) into BPMN 2.0 files.

    python -m scripts.bpmn_layout [--di-only] [--missing-only] [--check] FILE_OR_FOLDER...

Processes drawn as XML (no coordinates) open in bpmn-js or Camunda Modeler
only once they have BPMNDI. This script computes a simple, deterministic
layout and writes it in place:

* columns by longest-path rank from the start event(s); back edges found in
  a depth-first search are ignored when ranking, so loops run leftwards;
* one horizontal band per lane (stacked, leaves of nested lanes as bands);
  nodes of one lane in one column are stacked inside the band, which grows;
* pools for participants (stacked vertically), lanes, every flow node
  (events 36x36, tasks 100x80, gateways 50x50, subprocesses collapsed
  100x80 with their content on a drill-down plane of its own, as Camunda
  Modeler does), boundary events on their host's bottom edge;
* an edge with waypoints for every sequence flow (straight in the same row,
  else an elbow) and every message flow; labels under events and gateways.

Only the bpmndi part is replaced: the rest of the file is kept byte for
byte. The one exception: a process with lanes but no collaboration gets a
bpmn:collaboration with a participant (its pool) — unless --di-only is given,
which never touches the semantic XML (the lanes are then drawn without pool).

SpiffWorkflow takes a node's outgoing flows in the vertical order of their
targets' shapes (ties in XML order), so the stacking keeps the XML order of
outgoing flows wherever the targets share a lane; where they do not, the
lane order decides and a note is printed.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from scripts.render_bpmn import (  # one set of names for both tools
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

TASKS = {"task", "userTask", "serviceTask", "scriptTask", "manualTask", "businessRuleTask", "sendTask",
         "receiveTask", "callActivity"}
FLOW_NODES = EVENTS | GATEWAYS | TASKS | SUBPROCESSES

EVENT_SIZE, GATEWAY_SIZE, TASK_W, TASK_H = 36, 50, 100, 80
COL_W = 150          # column pitch: a task and a 50 px gap
ROW_H = 130          # slot pitch inside a lane band
POOL_HEADER = 30     # the pool's name strip on the left
LANE_HEADER = 30     # each lane level's name strip
MARGIN = 30          # inside a band, left of the first column and right of the last
ORIGIN_X, ORIGIN_Y = 160, 80
POOL_GAP = 60        # between stacked pools (room for message flows)
LABEL_W, LINE_H = 90, 14


def _q(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def local(el) -> str | None:
    return etree.QName(el).localname if isinstance(el.tag, str) else None


@dataclass
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def cy(self) -> int:
        return self.y + self.h // 2

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h


@dataclass
class Shape:
    element: str
    box: Box
    attrs: dict = field(default_factory=dict)
    label: Box | None = None


@dataclass
class Edge:
    element: str
    points: list[tuple[int, int]]
    label: Box | None = None


@dataclass
class Diagram:
    plane_element: str
    shapes: list[Shape] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)


def size_of(kind: str) -> tuple[int, int]:
    if kind in EVENTS:
        return EVENT_SIZE, EVENT_SIZE
    if kind in GATEWAYS:
        return GATEWAY_SIZE, GATEWAY_SIZE
    return TASK_W, TASK_H


def _label_under(box: Box, name: str | None, *, beside_exit: bool = False) -> Box | None:
    """Label bounds under a shape; right of the middle when a flow leaves through the bottom."""
    if not name or not name.strip():
        return None
    lines = wrap(name, LABEL_W, LABEL_CHAR_W) or [""]
    if beside_exit:
        w = min(LABEL_W, int(max(len(line) for line in lines) * LABEL_CHAR_W) + 6)
        return Box(box.cx + 4, box.bottom + 3, w, len(lines) * LINE_H)
    return Box(box.cx - LABEL_W // 2, box.bottom + 5, LABEL_W, len(lines) * LINE_H)


# -- the layout of one container (a process or a subprocess) -----------------

class Container:
    """Flow nodes and sequence flows directly inside a process or subprocess."""

    def __init__(self, element):
        self.element = element
        self.nodes = [c for c in element if local(c) in FLOW_NODES and local(c) != "boundaryEvent" and c.get("id")]
        self.boundaries = [c for c in element if local(c) == "boundaryEvent" and c.get("id")]
        ids = {n.get("id") for n in self.nodes} | {b.get("id") for b in self.boundaries}
        self.flows = [c for c in element if local(c) == "sequenceFlow" and c.get("id")
                      and c.get("sourceRef") in ids and c.get("targetRef") in ids]
        self.by_id = {n.get("id"): n for n in self.nodes + self.boundaries}
        self.order = {n.get("id"): i for i, n in enumerate(self.nodes)}
        self.host = {b.get("id"): b.get("attachedToRef") for b in self.boundaries
                     if b.get("attachedToRef") in self.order}
        # flows whose target is a boundary event make no sense; drop them from the graph
        self.graph_flows = [f for f in self.flows if f.get("targetRef") in self.order
                            and (f.get("sourceRef") in self.order or f.get("sourceRef") in self.host)]

    def effective(self, node_id: str) -> str:
        return self.host.get(node_id, node_id)


def rank_nodes(c: Container) -> tuple[dict[str, int], set[str]]:
    """Longest-path rank from the starts; returns ranks and the ids of back edges."""
    succ: dict[str, list] = defaultdict(list)
    incoming: dict[str, int] = defaultdict(int)
    for f in c.graph_flows:
        succ[c.effective(f.get("sourceRef"))].append(f)
        incoming[f.get("targetRef")] += 1
    ids = [n.get("id") for n in c.nodes]
    starts = [i for i in ids if local(c.by_id[i]) == "startEvent"]
    starts += [i for i in ids if not incoming[i] and i not in starts]
    starts += [i for i in ids if i not in starts]
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    back: set[str] = set()
    for s in starts:
        if s in state:
            continue
        state[s] = 1
        stack = [(s, iter(succ[s]))]
        while stack:
            node, it = stack[-1]
            f = next(it, None)
            if f is None:
                state[node] = 2
                stack.pop()
                continue
            t = f.get("targetRef")
            if state.get(t) == 1:
                back.add(f.get("id"))
            elif t not in state:
                state[t] = 1
                stack.append((t, iter(succ[t])))
    indegree = {i: 0 for i in ids}
    forward = [f for f in c.graph_flows if f.get("id") not in back]
    for f in forward:
        indegree[f.get("targetRef")] += 1
    rank = {i: 0 for i in ids}
    ready = sorted((i for i in ids if not indegree[i]), key=c.order.get)
    while ready:
        u = ready.pop(0)
        for f in forward:
            if c.effective(f.get("sourceRef")) != u:
                continue
            t = f.get("targetRef")
            rank[t] = max(rank[t], rank[u] + 1)
            indegree[t] -= 1
            if not indegree[t]:
                ready.append(t)
                ready.sort(key=c.order.get)
    return rank, back


@dataclass
class Placed:
    """A laid-out container: node boxes relative to the band tops."""
    rank: dict[str, int]
    back: set[str]
    slot: dict[str, int]
    lane_of: dict[str, int]
    slots_per_lane: list[int]
    notes: list[str]


def place(c: Container, lane_of: dict[str, int], n_lanes: int) -> Placed:
    rank, back = rank_nodes(c)
    ids = [n.get("id") for n in c.nodes]
    forward = [f for f in c.graph_flows if f.get("id") not in back]
    into: dict[str, list] = defaultdict(list)
    out_of: dict[str, list] = defaultdict(list)
    for f in forward:
        into[f.get("targetRef")].append(f)
        out_of[f.get("sourceRef")].append(f)
    min_slot: dict[str, int] = defaultdict(int)
    notes: list[str] = []

    def rel_top(i: str, slot: dict) -> int:
        return slot[i] * ROW_H + (ROW_H - size_of(local(c.by_id[i]))[1]) // 2

    for _ in range(200):
        slot: dict[str, int] = {}
        for r in sorted(set(rank.values())):
            column = [i for i in ids if rank[i] == r]
            pref = {}
            for i in column:
                cands = []
                for f in into[i]:
                    src = f.get("sourceRef")
                    siblings = [g for g in out_of[src] if lane_of[g.get("targetRef")] == lane_of[i]]
                    k = siblings.index(f)
                    if src in c.host:
                        base = slot[c.host[src]] + 1 if lane_of[c.host[src]] == lane_of[i] else 0
                    else:
                        base = slot[src] if lane_of[src] == lane_of[i] else 0
                    cands.append(base + k)
                pref[i] = max(min(cands) if cands else 0, min_slot[i])
            for lane in range(n_lanes):
                nxt = 0
                for i in sorted((i for i in column if lane_of[i] == lane), key=lambda i: (pref[i], c.order[i])):
                    slot[i] = max(pref[i], nxt)
                    nxt = slot[i] + 1
        changed = False
        for src in [n.get("id") for n in c.nodes + c.boundaries]:
            targets = [f.get("targetRef") for f in c.flows if f.get("sourceRef") == src
                       and f.get("targetRef") in slot]
            for a_i, a in enumerate(targets):
                for b in targets[a_i + 1:]:
                    if lane_of[a] == lane_of[b] and rel_top(a, slot) > rel_top(b, slot) and a != b:
                        min_slot[b] = max(min_slot[b], slot[a] + 1)
                        changed = True
        if not changed:
            break
    for src in [n.get("id") for n in c.nodes + c.boundaries]:
        targets = [f.get("targetRef") for f in c.flows if f.get("sourceRef") == src and f.get("targetRef") in slot]
        lanes = [lane_of[t] for t in targets]
        if lanes != sorted(lanes):
            notes.append(f"note: outgoing flows of '{src}' go to lanes out of XML order; SpiffWorkflow "
                         f"takes them top to bottom (order the flows in the XML as the lanes are ordered)")
    slots_per_lane = [1] * n_lanes
    for i in ids:
        slots_per_lane[lane_of[i]] = max(slots_per_lane[lane_of[i]], slot[i] + 1)
    return Placed(rank, back, slot, lane_of, slots_per_lane, notes)


def content_width(placed: Placed) -> int:
    cols = (max(placed.rank.values()) + 1) if placed.rank else 1
    return cols * COL_W + 2 * MARGIN


def node_boxes(c: Container, placed: Placed, x0: int, band_tops: list[int]) -> dict[str, Box]:
    boxes: dict[str, Box] = {}
    for n in c.nodes:
        i = n.get("id")
        w, h = size_of(local(n))
        cx = x0 + MARGIN + placed.rank[i] * COL_W + COL_W // 2
        cy = band_tops[placed.lane_of[i]] + placed.slot[i] * ROW_H + ROW_H // 2
        boxes[i] = Box(cx - w // 2, cy - h // 2, w, h)
    by_host: dict[str, list] = defaultdict(list)
    for b in c.boundaries:
        if b.get("id") in c.host:
            by_host[c.host[b.get("id")]].append(b.get("id"))
    for host, bs in by_host.items():
        hb = boxes[host]
        for k, b in enumerate(bs):
            cx = hb.x + hb.w * (k + 1) // (len(bs) + 1)
            boxes[b] = Box(cx - EVENT_SIZE // 2, hb.bottom - EVENT_SIZE // 2, EVENT_SIZE, EVENT_SIZE)
    return boxes


def _hits(box: Box, p: tuple[int, int], q: tuple[int, int]) -> bool:
    (x1, y1), (x2, y2) = p, q
    lo_x, hi_x, lo_y, hi_y = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
    return lo_x < box.right and hi_x > box.x and lo_y < box.bottom and hi_y > box.y


def _clear(points, obstacles) -> bool:
    return not any(_hits(b, p, q) for b in obstacles for p, q in zip(points, points[1:], strict=False))


def route(s: Box, t: Box, *, from_boundary: bool, from_gateway: bool, back: bool, others: list[Box]):
    if back or t.cx <= s.cx:
        y = min(s.y, t.y) - 15
        return [(s.cx, s.y), (s.cx, y), (t.cx, y), (t.cx, t.y)]
    if abs(s.cy - t.cy) <= 1 and not from_boundary:
        return [(s.right, s.cy), (t.x, s.cy)]
    down = t.cy > s.cy
    options = []
    if from_boundary and down:
        options.append([(s.cx, s.bottom), (s.cx, t.cy), (t.x, t.cy)])
    if from_gateway:
        options.append([(s.cx, s.bottom if down else s.y), (s.cx, t.cy), (t.x, t.cy)])
    if not from_boundary:
        options.append([(s.right, s.cy), (t.cx, s.cy), (t.cx, t.y if down else t.bottom)])
    xm = t.cx - COL_W // 2  # in the gap between columns
    start = (s.right, s.cy) if not from_boundary else (s.cx, s.bottom)
    z = [start, (xm, start[1]), (xm, t.cy), (t.x, t.cy)] if not from_boundary else \
        [start, (s.cx, s.bottom + 10), (xm, s.bottom + 10), (xm, t.cy), (t.x, t.cy)]
    options.append(z)
    for pts in options:
        if _clear(pts, others):
            return pts
    return z


def flow_label(points, name: str | None) -> Box | None:
    if not name or not name.strip():
        return None
    (x1, y1), (_x2, y2) = points[0], points[1]
    w = min(120, int(len(name) * LABEL_CHAR_W) + 6)
    h = LINE_H * max(1, len(wrap(name, 120, LABEL_CHAR_W)))
    if y1 == y2:  # horizontal first segment: above it, near the start
        return Box(x1 + 6, y1 - h - 2, w, h)
    return Box(x1 - w - 4, (y1 + y2) // 2 - h // 2 if abs(y2 - y1) > 2 * h else y1 + 2, w, h)


def edges_for(c: Container, placed: Placed, boxes: dict[str, Box]) -> list[Edge]:
    edges = []
    for f in c.flows:
        s_id, t_id = f.get("sourceRef"), f.get("targetRef")
        if s_id not in boxes or t_id not in boxes:
            continue
        others = [b for i, b in boxes.items() if i not in (s_id, t_id, c.host.get(s_id))]
        pts = route(boxes[s_id], boxes[t_id], from_boundary=s_id in c.host,
                    from_gateway=local(c.by_id[s_id]) in GATEWAYS, back=f.get("id") in placed.back,
                    others=others)
        edges.append(Edge(f.get("id"), pts, flow_label(pts, f.get("name"))))
    return edges


def node_shapes(c: Container, boxes: dict[str, Box], edges: list[Edge]) -> list[Shape]:
    bottom_exits = set()
    flows = {f.get("id"): f for f in c.flows}
    for e in edges:
        src = flows[e.element].get("sourceRef")
        if e.points[0] == (boxes[src].cx, boxes[src].bottom):
            bottom_exits.add(src)
    shapes = []
    for n in c.nodes + c.boundaries:
        i = n.get("id")
        if i not in boxes:
            continue
        kind = local(n)
        attrs = {"isExpanded": "false"} if kind in SUBPROCESSES else {}
        label = (_label_under(boxes[i], n.get("name"), beside_exit=i in bottom_exits)
                 if kind in EVENTS | GATEWAYS else None)
        shapes.append(Shape(i, boxes[i], attrs, label))
    return shapes


# -- lanes --------------------------------------------------------------------

@dataclass
class LaneInfo:
    element: str
    depth: int
    leaves: list[int]  # indices of leaf bands


def lane_tree(process) -> tuple[list[LaneInfo], dict[str, int], int]:
    """All lanes (depth-first), node id -> leaf band index, number of levels."""
    infos: list[LaneInfo] = []
    node_leaf: dict[str, int] = {}
    n_leaves = 0

    def walk(lane_set, depth):
        nonlocal n_leaves
        for lane in lane_set.findall(_q("lane")):
            info = LaneInfo(lane.get("id"), depth, [])
            infos.append(info)
            child = lane.find(_q("childLaneSet"))
            if child is not None and child.find(_q("lane")) is not None:
                first = len(infos)
                walk(child, depth + 1)
                info.leaves = sorted({leaf for i in infos[first:] for leaf in i.leaves})
                for ref in lane.findall(_q("flowNodeRef")):
                    node_leaf.setdefault((ref.text or "").strip(), info.leaves[0])
            else:
                info.leaves = [n_leaves]
                for ref in lane.findall(_q("flowNodeRef")):
                    node_leaf[(ref.text or "").strip()] = n_leaves
                n_leaves += 1

    for lane_set in process.findall(_q("laneSet")):
        walk(lane_set, 0)
    levels = max((i.depth for i in infos), default=-1) + 1
    return infos, node_leaf, levels


# -- whole processes, pools and documents -------------------------------------

@dataclass
class ProcessLayout:
    shapes: list[Shape]
    edges: list[Edge]
    width: int
    height: int
    notes: list[str]


def layout_process(process, x: int, y: int, *, pool: str | None, min_width: int = 0) -> ProcessLayout:
    """Lay out one process with its top-left corner at (x, y); pool: participant id or None."""
    c = Container(process)
    lanes, node_leaf, levels = lane_tree(process)
    n_bands = max(1, len({leaf for i in lanes for leaf in i.leaves}))
    lane_of = {n.get("id"): node_leaf.get(n.get("id"), 0) for n in c.nodes}
    placed = place(c, lane_of, n_bands)
    header = (POOL_HEADER if pool else 0) + LANE_HEADER * levels
    x0 = x + header
    width = max(header + content_width(placed), min_width)
    band_tops, top = [], y
    for n in placed.slots_per_lane:
        band_tops.append(top)
        top += n * ROW_H
    height = top - y
    boxes = node_boxes(c, placed, x0, band_tops)
    shapes: list[Shape] = []
    if pool:
        shapes.append(Shape(pool, Box(x, y, width, height), {"isHorizontal": "true"}))
    for info in lanes:
        lx = x + (POOL_HEADER if pool else 0) + LANE_HEADER * info.depth
        first, last = info.leaves[0], info.leaves[-1]
        ly = band_tops[first]
        lh = band_tops[last] + placed.slots_per_lane[last] * ROW_H - ly
        shapes.append(Shape(info.element, Box(lx, ly, x + width - lx, lh), {"isHorizontal": "true"}))
    edges = edges_for(c, placed, boxes)
    shapes += node_shapes(c, boxes, edges)
    return ProcessLayout(shapes, edges, width, height, placed.notes)


def layout_subprocess(sub) -> tuple[list[Diagram], list[str]]:
    """A drill-down plane for a collapsed subprocess, and planes for those inside it."""
    c = Container(sub)
    placed = place(c, {n.get("id"): 0 for n in c.nodes}, 1)
    boxes = node_boxes(c, placed, ORIGIN_X, [ORIGIN_Y])
    edges = edges_for(c, placed, boxes)
    diagram = Diagram(sub.get("id"), node_shapes(c, boxes, edges), edges)
    diagrams, notes = [diagram], list(placed.notes)
    for inner in c.nodes:
        if local(inner) in SUBPROCESSES:
            more, more_notes = layout_subprocess(inner)
            diagrams += more
            notes += more_notes
    return diagrams, notes


def message_edges(collab, shapes: dict[str, Box], pools: dict[str, Box], pool_of: dict[str, str]) -> list[Edge]:
    edges = []
    for mf in collab.findall(_q("messageFlow")):
        s_id, t_id = mf.get("sourceRef"), mf.get("targetRef")
        if s_id not in shapes or t_id not in shapes or not mf.get("id"):
            continue
        s, t = shapes[s_id], shapes[t_id]
        down = t.cy >= s.cy
        start = (s.cx, s.bottom if down else s.y)
        end = (t.cx, t.y if down else t.bottom)
        target_pool = pools.get(pool_of.get(t_id, t_id))
        if start[0] == end[0] or target_pool is None:
            pts = [start, end]
        else:
            ym = target_pool.y - POOL_GAP // 2 if down else target_pool.bottom + POOL_GAP // 2
            pts = [start, (start[0], ym), (end[0], ym), end]
        edges.append(Edge(mf.get("id"), pts, flow_label(pts, mf.get("name"))))
    return edges


def layout_document(root) -> tuple[list[Diagram], list[str]]:
    processes = [p for p in root.findall(_q("process")) if p.get("id")]
    by_id = {p.get("id"): p for p in processes}
    collab = root.find(_q("collaboration"))
    diagrams: list[Diagram] = []
    notes: list[str] = []
    if collab is not None and collab.get("id"):
        main = Diagram(collab.get("id"))
        participants = [p for p in collab.findall(_q("participant")) if p.get("id")]
        # two passes: the first finds the widest pool, the second draws all pools that wide
        widths = [layout_process(by_id[p.get("processRef")], 0, 0, pool=p.get("id")).width
                  for p in participants if p.get("processRef") in by_id]
        width = max(widths, default=600)
        y = ORIGIN_Y
        pools, pool_of, all_boxes = {}, {}, {}
        for p in participants:
            proc = by_id.get(p.get("processRef"))
            if proc is None:  # a black-box pool
                box = Box(ORIGIN_X, y, width, 80)
                main.shapes.append(Shape(p.get("id"), box, {"isHorizontal": "true"}))
                pools[p.get("id")] = box
                y += 80 + POOL_GAP
                continue
            pl = layout_process(proc, ORIGIN_X, y, pool=p.get("id"), min_width=width)
            main.shapes += pl.shapes
            main.edges += pl.edges
            notes += pl.notes
            pools[p.get("id")] = Box(ORIGIN_X, y, pl.width, pl.height)
            for shape in pl.shapes:
                all_boxes[shape.element] = shape.box
                pool_of[shape.element] = p.get("id")
            y += pl.height + POOL_GAP
        all_boxes.update(pools)
        main.edges += message_edges(collab, all_boxes, pools, pool_of)
        diagrams.append(main)
        drawn = [by_id[p.get("processRef")] for p in participants if p.get("processRef") in by_id]
    else:
        drawn = processes[:1]
        if drawn:
            pl = layout_process(drawn[0], ORIGIN_X, ORIGIN_Y, pool=None)
            diagrams.append(Diagram(drawn[0].get("id"), pl.shapes, pl.edges))
            notes += pl.notes
    for proc in drawn:
        for node in proc:
            if local(node) in SUBPROCESSES and node.get("id"):
                more, more_notes = layout_subprocess(node)
                diagrams += more
                notes += more_notes
    return diagrams, notes


# -- text surgery: only the bpmndi part changes --------------------------------

def _attr(value: str) -> str:
    return (value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;"))


def _bounds(box: Box) -> str:
    return f'<dc:Bounds x="{box.x}" y="{box.y}" width="{box.w}" height="{box.h}"/>'


def serialize(diagrams: list[Diagram], indent: str = "  ") -> str:
    i1, i2, i3, i4 = indent, indent * 2, indent * 3, indent * 4
    out = []
    for d in diagrams:
        out.append(f'{i1}<bpmndi:BPMNDiagram xmlns:bpmndi="{BPMNDI_NS}" xmlns:dc="{DC_NS}" xmlns:di="{DI_NS}" '
                   f'id="{_attr("BPMNDiagram_" + d.plane_element)}">')
        out.append(f'{i2}<bpmndi:BPMNPlane id="{_attr("BPMNPlane_" + d.plane_element)}" '
                   f'bpmnElement="{_attr(d.plane_element)}">')
        for s in d.shapes:
            extra = "".join(f' {k}="{v}"' for k, v in s.attrs.items())
            out.append(f'{i3}<bpmndi:BPMNShape id="{_attr(s.element + "_di")}" bpmnElement="{_attr(s.element)}"{extra}>')
            out.append(f"{i4}{_bounds(s.box)}")
            if s.label:
                out.append(f"{i4}<bpmndi:BPMNLabel>{_bounds(s.label)}</bpmndi:BPMNLabel>")
            out.append(f"{i3}</bpmndi:BPMNShape>")
        for e in d.edges:
            out.append(f'{i3}<bpmndi:BPMNEdge id="{_attr(e.element + "_di")}" bpmnElement="{_attr(e.element)}">')
            out += [f'{i4}<di:waypoint x="{x}" y="{y}"/>' for x, y in e.points]
            if e.label:
                out.append(f"{i4}<bpmndi:BPMNLabel>{_bounds(e.label)}</bpmndi:BPMNLabel>")
            out.append(f"{i3}</bpmndi:BPMNEdge>")
        out.append(f"{i2}</bpmndi:BPMNPlane>")
        out.append(f"{i1}</bpmndi:BPMNDiagram>")
    return "\n".join(out)


_OLD_DI = re.compile(r"\n?[ \t]*<((?:[\w.-]+:)?)BPMNDiagram\b[^>]*?(?:/>|>.*?</\1BPMNDiagram\s*>)", re.S)


def strip_di(text: str) -> str:
    return _OLD_DI.sub("", text)


def _prefix(root) -> str:
    for prefix, uri in root.nsmap.items():
        if uri == BPMN_NS:
            return f"{prefix}:" if prefix else ""
    return "bpmn:"


def add_collaboration(text: str, root) -> str | None:
    """Text with a collaboration for processes that have lanes (or are several) and none; else None."""
    if root.find(_q("collaboration")) is not None:
        return None
    processes = [p for p in root.findall(_q("process")) if p.get("id")]
    if not processes or (len(processes) == 1 and processes[0].find(f".//{_q('lane')}") is None):
        return None
    p = _prefix(root)
    taken = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}

    def fresh(base):
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base}_{n}", n + 1
        taken.add(candidate)
        return candidate

    m = re.search(rf"^([ \t]*)<{re.escape(p)}process\b", text, re.M)
    if m is not None:
        indent, at = m.group(1), m.start() + len(m.group(1))
    else:
        m = re.search(rf"<{re.escape(p)}process\b", text)
        if m is None:
            return None
        indent, at = "", m.start()
    collab_id = fresh(f"{processes[0].get('id')}_collaboration")
    lines = [f'<{p}collaboration id="{collab_id}">']
    for proc in processes:
        name = proc.get("name") or proc.get("id")
        lines.append(f'{indent}  <{p}participant id="{fresh(proc.get("id") + "_participant")}" '
                     f'name="{_attr(name)}" processRef="{_attr(proc.get("id"))}"/>')
    lines.append(f"{indent}</{p}collaboration>")
    return text[:at] + "\n".join(lines) + "\n" + indent + text[at:]


def _semantic(root) -> bytes:
    root = etree.fromstring(etree.tostring(root))
    for d in root.findall(f"{{{BPMNDI_NS}}}BPMNDiagram"):
        root.remove(d)
    for el in root.iter():
        if el.text is not None and not el.text.strip():
            el.text = None
        if el.tail is not None and not el.tail.strip():
            el.tail = None
    return etree.tostring(root, method="c14n")


def layout_text(text: str, *, di_only: bool = False) -> tuple[str, list[str]]:
    """The file's text with a fresh bpmndi section (and a collaboration, see above)."""
    original = etree.fromstring(text.encode("utf-8"))
    if etree.QName(original).namespace != BPMN_NS or etree.QName(original).localname != "definitions":
        raise ValueError("not a BPMN 2.0 document (expected bpmn:definitions)")
    body = strip_di(text)
    root = etree.fromstring(body.encode("utf-8"))
    with_collab = None if di_only else add_collaboration(body, root)
    if with_collab is not None:
        body = with_collab
        root = etree.fromstring(body.encode("utf-8"))
    diagrams, notes = layout_document(root)
    close = list(re.finditer(r"</(?:[\w.-]+:)?definitions\s*>", body))[-1]
    before, after = body[:close.start()], body[close.start():]
    block = serialize(diagrams)
    if before.endswith("\n"):
        new = before + block + "\n" + after
    else:
        new = before + "\n" + block + "\n" + after
    if with_collab is None and strip_di(new) != body:
        if _semantic(etree.fromstring(new.encode("utf-8"))) != _semantic(original):
            raise AssertionError("internal error: the semantic XML would change")
    return new, notes


def diagram_complete(text: str) -> bool:
    """True when every participant, lane, flow node and sequence flow already has DI."""
    root = etree.fromstring(text.encode("utf-8"))
    shapes = {el.get("bpmnElement") for el in root.iter(f"{{{BPMNDI_NS}}}BPMNShape")}
    edges = {el.get("bpmnElement") for el in root.iter(f"{{{BPMNDI_NS}}}BPMNEdge")}
    wanted = {el.get("id") for el in root.iter() if local(el) in FLOW_NODES | {"lane", "participant"}}
    flows = {el.get("id") for el in root.iter(_q("sequenceFlow"))}
    return bool(shapes) and wanted <= shapes and flows <= edges


def bpmn_files(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        found += sorted(path.rglob("*.bpmn")) if path.is_dir() else [path]
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.bpmn_layout", description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", metavar="FILE", help=".bpmn files or folders (searched recursively)")
    ap.add_argument("--di-only", action="store_true",
                    help="never touch the semantic XML (no collaboration is added; lanes are drawn without pool)")
    ap.add_argument("--missing-only", action="store_true",
                    help="leave files whose diagram is already complete (e.g. arranged by hand in a modeler)")
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file's diagram is not up to date")
    args = ap.parse_args(argv)
    stale = 0
    for path in bpmn_files(args.paths):
        text = path.read_bytes().decode("utf-8")
        if args.missing_only and diagram_complete(text):
            print(f"{path}: diagram complete, left as it is")
            continue
        new, notes = layout_text(text, di_only=args.di_only)
        for note in notes:
            print(f"{path}: {note}", file=sys.stderr)
        if new == text:
            print(f"{path}: up to date")
            continue
        stale += 1
        if args.check:
            print(f"{path}: diagram out of date (run python -m scripts.bpmn_layout {path})")
        else:
            path.write_bytes(new.encode("utf-8"))
            print(f"{path}: laid out")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())

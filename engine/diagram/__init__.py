"""Drawing BPMN diagrams as SVG, apart from the core: a case's marked diagram, and the drawing itself.

case_diagram: the case's diagram with its steps marked (reads the case; logged).
svg, shapes, text, marks: pure drawing from BPMNDI, no database.
"""
from .case_diagram import case_diagram, case_diagram_svg

__all__ = ["case_diagram", "case_diagram_svg"]

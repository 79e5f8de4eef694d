/**
 * The journey's decision tables (.dmn) in dmn-js' decision table editor, beside the modeler.
 *
 * The server (GET /api/studio/decisions/<key>) hands over every table the diagram's business
 * rule tasks name, as publishing would use them (the draft's edited tables first, then the
 * latest version's, then the processes folder). A table changed here is kept in `edited`
 * ({file name: DMN text}) and goes with the draft's save and check, so the deploy's own DMN
 * checks judge it; its findings (those naming this file) mark their cells: an outline and a
 * "!" (not by colour alone), the message as the cell's title. The bpmn.io watermark of the
 * table stays visible, as dmn-js' license asks.
 */
import DmnModeler from 'dmn-js/lib/Modeler';

import { TranslateModule } from './translate-da';

const CELL_MARK = 'tov-cell-problem';

export class DecisionTables {
  constructor(container, onChange) {
    this.container = container;
    this.onChange = onChange;
    this.files = {};   // every table the journey names: {file name: DMN text}
    this.edited = {};  // those changed with the draft
    this.current = null;
    this.problems = [];
    this.modeler = new DmnModeler({
      container,
      common: { keyboard: { bindTo: container } },
      // per view: dmn-js replaces a common `additionalModules` with its own
      decisionTable: { additionalModules: [TranslateModule] },
    });
    this.importing = false;
  }

  /** The tables from the server and the draft's edited ones (which win). */
  load(files, edited) {
    this.files = { ...(files || {}), ...(edited || {}) };
    this.edited = { ...(edited || {}) };
  }

  names() { return Object.keys(this.files).sort(); }

  async open(name) {
    if (!(name in this.files)) return false;
    this.importing = true;
    try {
      await this.modeler.importXML(this.files[name]);
    } finally {
      this.importing = false;
    }
    this.current = name;
    const view = this.modeler.getViews().find((v) => v.type === 'decisionTable');
    if (view && this.modeler.getActiveView() !== view) await this.modeler.open(view);
    const viewer = this.modeler.getActiveViewer();
    if (viewer) {
      viewer.get('eventBus').on('elements.changed', () => this.changed());
    }
    this.mark(this.problems);
    return true;
  }

  async changed() {
    if (this.importing || !this.current) return;
    const name = this.current;
    const { xml } = await this.modeler.saveXML({ format: true });
    if (this.current !== name) return;
    this.files[name] = xml;
    this.edited[name] = xml;
    this.onChange(name);
    setTimeout(() => this.mark(this.problems), 0);  // the table re-renders the changed cells
  }

  /** Outline and badge the cells (or columns) the check's findings for the open table name. */
  mark(problems) {
    this.problems = problems || [];
    for (const cell of this.container.querySelectorAll(`.${CELL_MARK}`)) {
      cell.classList.remove(CELL_MARK);
      cell.removeAttribute('title');
    }
    for (const p of this.problems) {
      if (!p.file || p.file !== this.current || !p.element) continue;
      const selector = `[data-element-id="${CSS.escape(p.element)}"], [data-col-id="${CSS.escape(p.element)}"]`;
      for (const cell of this.container.querySelectorAll(selector)) {
        cell.classList.add(CELL_MARK);
        cell.title = cell.title ? `${cell.title}\n${p.message}` : p.message;
      }
    }
  }

  /** Bring the cell of a finding into view and give it focus. */
  focus(element) {
    const selector = `[data-element-id="${CSS.escape(element)}"], [data-col-id="${CSS.escape(element)}"]`;
    const cell = this.container.querySelector(selector);
    if (!cell) return false;
    cell.scrollIntoView({ block: 'center' });
    const editable = cell.querySelector('[contenteditable]') || cell;
    if (editable.focus) editable.focus();
    return true;
  }
}

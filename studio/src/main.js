/**
 * The studio's modeler page (/studio/{key}/edit and /studio/new): bpmn-js with its properties
 * panel and Tovholder's properties, the draft loaded and saved through /api/studio/drafts
 * (optimistic: a stale revision is refused, never overwritten), the server's deploy checks
 * run on every change (debounced) and shown as markers and a list, and publishing after a
 * confirmation that shows the diff and the running cases affected. The decision tables the
 * diagram names are edited beside it (./decisions.js, dmn-js) and saved, checked and published
 * with the draft.
 *
 * The page's server part (api/web/studio_edit.py) hands over a JSON config: the key, the
 * deployed version's BPMN to start from, and the session's CSRF token.
 */
import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';

import { ApiError, makeApi } from './api';
import { DecisionTables } from './decisions';
import { KeepSubprocessLanesModule } from './lanes';
import { lintProblems } from './lint';
import { createProblemView } from './problems';
import TovholderPropertiesModule from './properties';
import { renderPreview, renderPublished } from './publish';
import { KEY_PATTERN, journeyTemplate } from './template';
import { TranslateModule } from './translate-da';

const CHECK_DELAY_MS = 700;
const STALE = 'Udkastet er ændret i en anden fane eller af en kollega, siden du hentede det. '
  + 'Dine ændringer er ikke gemt, og intet er overskrevet. Hent den nyeste udgave (dine ændringer her går tabt), '
  + 'eller hent dit diagram som fil først.';

const $ = (id) => document.getElementById(id);
const FORM_NAME = /^[A-Za-z0-9_-]{1,200}$/;  // engine/drafts.py FORM_FILE: <form key>.json

function readConfig() {
  return JSON.parse($('studio-config').textContent);
}

/**
 * Hand-written diagrams (processes/*.bpmn) name a flow's ends only in the sequence flow; give
 * each flow node its `incoming`/`outgoing` lists as modelers write them, so that bpmnlint (and
 * bpmn-js' own rules) see the connections. The engine reads only sourceRef/targetRef.
 */
function linkFlows(definitions) {
  const visit = (container) => {
    for (const element of container.flowElements || []) {
      if (element.$type === 'bpmn:SequenceFlow') {
        const { sourceRef: source, targetRef: target } = element;
        if (source && !(source.outgoing || []).includes(element)) source.set('outgoing', [...(source.outgoing || []), element]);
        if (target && !(target.incoming || []).includes(element)) target.set('incoming', [...(target.incoming || []), element]);
      } else if (element.flowElements) {
        visit(element);
      }
    }
  };
  for (const root of (definitions && definitions.rootElements) || []) {
    if (root.$type === 'bpmn:Process') visit(root);
  }
}

class Studio {
  constructor(config) {
    this.config = config;
    this.api = makeApi(config.csrf);
    this.key = config.key || null;
    this.revision = null;  // null: no draft on the server yet
    this.baseVersion = config.latest_version || null;
    this.forms = {};
    this.tables = null;  // DecisionTables, once the journey's tables are known
    this.dirty = false;
    this.changes = 0;
    this.saving = null;
    this.problems = [];
    this.checkSeq = 0;
    this.checkTimer = null;
    this.catalog = { units: [], forms: [], deadlines: [], processes: [], messages: [], draftForms: {},
      newForm: (element) => this.askNewForm(element) };
    this.savedXml = null;   // the diagram as last saved (or loaded from the draft)
    this.frameSave = null;  // a save posted by the form editor in this tab: { from: revision }
  }

  status(text) { $('studio-status').textContent = text; }

  alert(text, actions = []) {
    const box = $('studio-alert');
    box.replaceChildren();
    if (!text) { box.hidden = true; return; }
    const p = document.createElement('p');
    p.textContent = text;
    box.append(p, ...actions);
    box.hidden = false;
  }

  button(label, onClick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'secondary';
    b.textContent = label;
    b.addEventListener('click', onClick);
    return b;
  }

  async start() {
    try {
      Object.assign(this.catalog, await this.api.catalog());
    } catch (err) {
      this.alert(`Listerne over enheder, formularer og frister kunne ikke hentes: ${err.message}`);
    }
    this.modeler = new BpmnModeler({
      container: $('studio-canvas'),
      keyboard: { bind: true },
      propertiesPanel: { parent: $('studio-properties') },
      additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, TovholderPropertiesModule,
        TranslateModule, KeepSubprocessLanesModule, { tovholderCatalog: ['value', this.catalog] }],
      moddleExtensions: { camunda: camundaModdle },
    });
    window.tovholderModeler = this.modeler;  // for the browser tests and the curious: the bpmn-js API
    window.tovholderStudio = this;
    this.problemView = createProblemView(this.modeler, $('studio-problems'), $('studio-problem-summary'));
    this.modeler.on('commandStack.changed', () => this.changed());
    this.wireControls();
    if (this.config.mode === 'new') {
      this.showNewForm();
    } else {
      await this.loadInitial();
      await this.loadDecisions();
    }
  }

  /** The decision tables the journey names, with the draft's edited ones. */
  async loadDecisions() {
    let answer;
    try {
      answer = await this.api.decisions(this.key);
    } catch (err) {
      if (err.status !== 404) this.alert(`Beslutningstabellerne kunne ikke hentes: ${err.message}`);
      return;
    }
    const names = Object.keys(answer.decisions || {});
    if (!names.length) return;
    if (!this.tables) {
      this.tables = new DecisionTables($('studio-dmn-canvas'), () => this.changed());
      window.tovholderDecisions = this.tables;  // for the browser tests: dmn-js' API
    }
    const edited = {};
    for (const name of answer.edited || []) {
      if (name in (answer.decisions || {})) edited[name] = answer.decisions[name];
    }
    this.tables.load(answer.decisions, edited);
    const select = $('studio-dmn');
    select.replaceChildren(...this.tables.names().map((name) => {
      const option = document.createElement('option');
      option.value = name;
      option.textContent = name;
      return option;
    }));
    $('studio-dmn-choice').hidden = false;
  }

  async openDecision(name, element) {
    if (!this.tables || !(await this.tables.open(name))) {
      this.alert(`Beslutningstabellen ${name} findes ikke i forløbet.`);
      return;
    }
    $('studio-dmn').value = name;
    $('studio-dmn-h').textContent = `Beslutningstabel: ${name}`;
    $('studio-dmn-section').hidden = false;
    document.querySelector('.studio-work').hidden = true;
    this.tables.mark(this.problems);
    if (!element || !this.tables.focus(element)) $('studio-dmn-close').focus();
  }

  closeDecision() {
    $('studio-dmn-section').hidden = true;
    document.querySelector('.studio-work').hidden = false;
    this.modeler.get('canvas').resized();
    $('studio-dmn-open').focus();
  }

  decisionsEdited() {
    return this.tables ? { ...this.tables.edited } : {};
  }

  wireControls() {
    $('studio-save').addEventListener('click', () => this.save());
    $('studio-publish').addEventListener('click', () => this.openPublish());
    $('studio-undo').addEventListener('click', () => this.modeler.get('commandStack').undo());
    $('studio-redo').addEventListener('click', () => this.modeler.get('commandStack').redo());
    $('studio-download').addEventListener('click', () => this.download());
    $('studio-diagram').addEventListener('change', (event) => this.openDiagram(event.target.value));
    $('studio-dialog-cancel').addEventListener('click', () => $('studio-dialog').close());
    $('studio-dialog-confirm').addEventListener('click', () => this.publish());
    $('studio-dmn-open').addEventListener('click', () => this.openDecision($('studio-dmn').value));
    $('studio-newform-cancel').addEventListener('click', () => $('studio-newform').close());
    $('studio-newform').addEventListener('close', () => {  // the panel's list shows the element's form again
      if (this.newFormFor) this.modeler.get('eventBus').fire('elements.changed', { elements: [this.newFormFor] });
    });
    $('studio-newform-form').addEventListener('submit', (event) => { event.preventDefault(); this.createForm(); });
    $('studio-formeditor-close').addEventListener('click', () => $('studio-formeditor').close());
    $('studio-formeditor').addEventListener('close', () => this.formEditorClosed());
    $('studio-formeditor-frame').addEventListener('load', () => this.formEditorLoaded());
    $('studio-dmn-close').addEventListener('click', () => this.closeDecision());
    window.addEventListener('beforeunload', (event) => {
      if (this.dirty) { event.preventDefault(); event.returnValue = ''; }
    });
  }

  setEnabled() {
    const ready = !!this.key;
    $('studio-save').disabled = !ready;
    const errors = this.problems.filter((p) => p.severity !== 'warning').length;
    $('studio-publish').disabled = !ready || errors > 0;
    $('studio-publish-hint').textContent = errors > 0
      ? 'Udgiv er ikke muligt, før fejlene i listen herunder er rettet.'
      : (this.dirty ? 'Udgiv gemmer først udkastet.' : '');
    const stack = this.modeler.get('commandStack');
    $('studio-undo').disabled = !stack.canUndo();
    $('studio-redo').disabled = !stack.canRedo();
  }

  async loadInitial() {
    const requested = this.config.version;
    let draft = null;
    try {
      draft = await this.api.getDraft(this.key);
    } catch (err) {
      if (err.status !== 404) this.alert(`Udkastet kunne ikke hentes: ${err.message}`);
    }
    if (draft) this.takeDraft(draft);
    if (draft && !requested) {
      await this.importXml(draft.bpmn);
      this.savedXml = draft.bpmn;
      this.status(`Udkast åbnet (gemt ${draft.updated_by ? `af ${draft.updated_by} ` : ''}`
        + `${draft.updated_at ? new Date(draft.updated_at).toLocaleString('da-DK') : ''}, revision ${draft.revision}).`);
    } else if (this.config.bpmn) {
      await this.importXml(this.config.bpmn);
      this.baseVersion = this.config.version || this.config.latest_version;
      this.status(`Version ${this.baseVersion} åbnet. Dine ændringer bliver et udkast, når du gemmer.`);
      if (draft) {
        this.alert(`Der findes allerede et udkast (revision ${draft.revision}). Gemmer du, erstatter denne version udkastet.`);
      }
    } else {
      this.alert('Forløbet findes ikke, og der er intet udkast til det.');
      return;
    }
    this.setEnabled();
  }

  takeDraft(draft) {
    this.revision = draft.revision;
    this.baseVersion = draft.base_version ?? this.baseVersion;
    this.forms = draft.forms || {};
    this.catalog.draftForms = this.forms;
    if (this.tables && draft.decisions) this.tables.edited = { ...draft.decisions };
    if (draft.problems) this.problems = draft.problems;
  }

  async importXml(xml) {
    try {
      const { warnings } = await this.modeler.importXML(xml);
      if (warnings && warnings.length) this.status(`Diagrammet er åbnet med ${warnings.length} advarsler fra tegneværktøjet.`);
    } catch (err) {
      this.alert(`Diagrammet kunne ikke åbnes: ${err.message}`);
      return;
    }
    linkFlows(this.modeler.getDefinitions());
    this.dirty = false;
    this.fillDiagramChoice();
    this.fitView();
    this.scheduleCheck(0);
  }

  fillDiagramChoice() {
    const select = $('studio-diagram');
    const diagrams = (this.modeler.getDefinitions().diagrams || []);
    select.replaceChildren(...diagrams.map((d) => {
      const option = document.createElement('option');
      option.value = d.id;
      const root = d.plane && d.plane.bpmnElement;
      const process = root && (root.processRef || (root.participants && root.participants[0] && root.participants[0].processRef) || root);
      option.textContent = (process && (process.name || process.id)) || d.id;
      return option;
    }));
    $('studio-diagram-choice').hidden = diagrams.length < 2;
  }

  async openDiagram(id) {
    const diagram = (this.modeler.getDefinitions().diagrams || []).find((d) => d.id === id);
    if (!diagram) return;
    await this.modeler.open(diagram);
    $('studio-diagram').value = diagram.id;
    this.fitView();
    this.problemView.mark(this.problems);
  }

  /** The whole diagram when it fits readably; a large one from its top left corner at a readable scale. */
  fitView() {
    const canvas = this.modeler.get('canvas');
    canvas.zoom('fit-viewport');
    const box = canvas.viewbox();
    if (box.scale >= 0.6) return;
    const scale = 0.75;
    canvas.viewbox({ x: box.inner.x - 20, y: box.inner.y - 20, width: box.outer.width / scale, height: box.outer.height / scale });
  }

  changed() {
    this.changes += 1;
    this.dirty = true;
    this.status('Ikke gemte ændringer.');
    this.setEnabled();
    this.scheduleCheck(CHECK_DELAY_MS);
  }

  scheduleCheck(delay) {
    clearTimeout(this.checkTimer);
    $('studio-problems-region').setAttribute('aria-busy', 'true');  // a check is due: the list is not current
    this.checkTimer = setTimeout(() => this.check(), delay);
  }

  async xml() {
    const { xml } = await this.modeler.saveXML({ format: true });
    return xml;
  }

  async check() {
    const seq = ++this.checkSeq;
    let problems;
    try {
      const bpmn = await this.xml();
      const answer = await this.api.check({ bpmn, forms: this.forms, decisions: this.decisionsEdited() });
      problems = [...(answer.problems || []), ...(await lintProblems(this.modeler))];
    } catch (err) {
      if (seq === this.checkSeq) {
        $('studio-problem-summary').textContent = `Tjekket kunne ikke køre: ${err.message}`;
        $('studio-problems-region').setAttribute('aria-busy', 'false');
      }
      return;
    }
    if (seq !== this.checkSeq) return;  // a later change has started a newer check
    const registry = this.modeler.get('elementRegistry');
    this.problems = problems.map((p) => {
      const element = p.element && registry.get(p.element);
      return { ...p, name: (element && element.businessObject.name) || p.name || '' };
    });
    this.problemView.render(this.problems, (diagram) => this.openDiagram(diagram.id),
      (file, element) => this.openDecision(file, element));
    if (this.tables) this.tables.mark(this.problems);
    $('studio-problems-region').setAttribute('aria-busy', 'false');
    this.setEnabled();
  }

  /** Save the draft; a save asked for while one is under way waits for it (one revision at a time). */
  async save() {
    if (!this.key) return false;
    while (this.saving) {
      const ok = await this.saving;
      if (!ok || !this.dirty) return ok;
    }
    this.saving = this.saveNow();
    try {
      return await this.saving;
    } finally {
      this.saving = null;
    }
  }

  async saveNow() {
    $('studio-save').disabled = true;
    this.status('Gemmer udkastet …');
    const changesAtStart = this.changes;
    try {
      const bpmn = await this.xml();
      const draft = await this.api.saveDraft(this.key, {
        bpmn, forms: this.forms, revision: this.revision, decisions: this.decisionsEdited(),
      });
      this.takeDraft(draft);
      this.savedXml = bpmn;
      this.dirty = this.changes !== changesAtStart;  // changed while the save was under way
      this.alert('');
      this.status(`Udkastet er gemt (revision ${draft.revision})${this.dirty ? '; dine seneste ændringer er endnu ikke gemt' : ''}.`);
      if (this.config.mode === 'new') {
        this.config.mode = 'edit';
        window.history.replaceState(null, '', `/studio/${encodeURIComponent(this.key)}/edit`);
      }
      return true;
    } catch (err) {
      if (err.status === 409) {
        this.status('Udkastet er ikke gemt.');
        this.alert(STALE, [this.button('Hent nyeste udkast', () => this.reloadDraft()),
          this.button('Hent mit diagram som fil', () => this.download())]);
      } else {
        this.status('Udkastet er ikke gemt.');
        this.alert(`Udkastet kunne ikke gemmes: ${err.message}`);
      }
      return false;
    } finally {
      this.setEnabled();
    }
  }

  async reloadDraft() {
    try {
      const draft = await this.api.getDraft(this.key);
      this.takeDraft(draft);
      await this.importXml(draft.bpmn);
      await this.loadDecisions();
      this.alert('');
      this.status(`Nyeste udkast hentet (revision ${draft.revision}).`);
    } catch (err) {
      this.alert(`Udkastet kunne ikke hentes: ${err.message}`);
    }
    this.setEnabled();
  }

  async download() {
    const blob = new Blob([await this.xml()], { type: 'application/xml' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = `${this.key || 'forloeb'}.bpmn`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  async openPublish() {
    if (this.dirty || this.revision === null) {
      if (!(await this.save())) return;
    }
    const dialog = $('studio-dialog');
    const body = $('studio-dialog-body');
    const confirm = $('studio-dialog-confirm');
    body.replaceChildren(document.createTextNode('Henter ændringerne …'));
    $('studio-dialog-title').textContent = `Udgiv ${this.key}?`;
    confirm.hidden = false;
    confirm.disabled = true;
    $('studio-dialog-cancel').textContent = 'Annullér';
    dialog.showModal();
    try {
      this.preview = await this.api.preview(this.key);
    } catch (err) {
      body.replaceChildren(document.createTextNode(`Ændringerne kunne ikke hentes: ${err.message}`));
      return;
    }
    const { canPublish } = renderPreview(body, this.preview);
    confirm.disabled = !canPublish;
    (canPublish ? confirm : $('studio-dialog-cancel')).focus();
  }

  async publish() {
    const body = $('studio-dialog-body');
    const confirm = $('studio-dialog-confirm');
    confirm.disabled = true;
    try {
      const result = await this.api.publish(this.key, this.revision);
      this.dirty = false;
      $('studio-dialog-title').textContent = 'Udgivet';
      renderPublished(body, result.key, result.version, (this.preview && this.preview.affected_cases) || 0);
      confirm.hidden = true;
      $('studio-dialog-cancel').textContent = 'Luk';
      $('studio-dialog-cancel').focus();
      this.status(`Version ${result.version} er udgivet.`);
      this.baseVersion = result.version;
      await this.afterPublish();
    } catch (err) {
      let text = `Udgivelsen mislykkedes: ${err.message}`;
      if (err.status === 409) text = STALE;
      if (err.status === 422) {
        const detail = Array.isArray(err.detail) ? err.detail.map((d) => d.message || d.msg).join('; ') : (err.detail || '');
        text = `Udkastet kan ikke udgives: ${detail || 'det har fejl (se listen over problemer).'}`;
      }
      const p = document.createElement('p');
      p.className = 'tov-dialog-error';
      p.setAttribute('role', 'alert');
      p.textContent = text;
      body.append(p);
      confirm.disabled = err.status !== 409 && err.status !== 422 ? false : true;
    }
  }

  async afterPublish() {
    try {
      this.takeDraft(await this.api.getDraft(this.key));
    } catch (err) {
      if (err.status === 404) this.revision = null;  // publishing used the draft up
    }
    await this.loadDecisions();  // the published tables are now the version's
    this.setEnabled();
  }

  /** "Ny formular …" in the panel: ask for the name (in a dialog), checked as the server checks it. */
  askNewForm(element) {
    this.newFormFor = element;
    $('studio-newform-name').value = '';
    $('studio-newform-error').textContent = '';
    $('studio-newform').showModal();
    $('studio-newform-name').focus();
  }

  formNames() {
    return new Set([...(this.catalog.forms || []), ...Object.keys(this.forms).filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))]);
  }

  /** Create the form file in the draft, set the element's form key, save, and open the form editor. */
  async createForm() {
    const name = $('studio-newform-name').value.trim();
    const error = $('studio-newform-error');
    if (!FORM_NAME.test(name)) {
      error.textContent = 'Navnet må kun have bogstaver (a–z, A–Z), tal, _ og - (ingen mellemrum eller æ, ø, å).';
      $('studio-newform-name').focus();
      return;
    }
    if (this.formNames().has(name)) {
      error.textContent = `Formularen ${name} findes allerede. Vælg den i listen, eller giv den nye et andet navn.`;
      $('studio-newform-name').focus();
      return;
    }
    if (!this.key) {
      error.textContent = 'Opret forløbet først (med en nøgle), før det får formularer.';
      return;
    }
    const element = this.newFormFor;
    this.forms = { ...this.forms, [`${name}.json`]: `${JSON.stringify({ title: name, fields: [] }, null, 2)}\n` };
    this.catalog.draftForms = this.forms;
    this.modeler.get('modeling').updateProperties(element, { 'camunda:formKey': name });
    $('studio-newform').close();
    if (!(await this.save())) return;  // the draft must hold the form (and the key) before the editor saves it
    this.openFormEditor(name);
  }

  openFormEditor(name) {
    $('studio-formeditor-h').textContent = `Formular: ${name}`;
    const frame = $('studio-formeditor-frame');
    frame.title = `Formulareditor: ${name}`;
    this.frameSave = null;
    frame.src = `/studio/${encodeURIComponent(this.key)}/forms/${encodeURIComponent(name)}`;
    $('studio-formeditor').showModal();
    $('studio-formeditor-close').focus();
  }

  /**
   * The form editor's page loaded in this tab's frame. It saves the form into the draft over
   * the revision it read, which was this modeler's; a save it made is this tab's own, so the
   * modeler takes that revision and the draft's forms (its diagram stays as drawn) instead of
   * being refused as stale at its next save. Saves from anywhere else are not taken: another
   * tab or a colleague still gets, and causes, the 409.
   */
  async formEditorLoaded() {
    const frame = $('studio-formeditor-frame');
    let doc;
    try { doc = frame.contentDocument; } catch (err) { return; }
    if (!doc || !doc.getElementById('editor')) return;
    const posted = this.frameSave;
    this.frameSave = null;
    doc.getElementById('editor').addEventListener('submit', (event) => {
      const action = event.submitter ? event.submitter.value : '';
      if (action === 'gem' || action === 'fortryd') {
        this.frameSave = { from: Number(doc.querySelector('input[name=revision]').value) || null };
      }
    });
    if (!posted || posted.from !== this.revision) return;
    const saved = [...doc.querySelectorAll('.flash')].some((f) => /gemt i udkastet|er fjernet/.test(f.textContent));
    if (!saved) return;
    let draft;
    try { draft = await this.api.getDraft(this.key); } catch (err) { return; }
    if (draft.revision !== posted.from + 1 || draft.bpmn !== this.savedXml) return;  // someone else's save too
    this.revision = draft.revision;
    this.forms = draft.forms || {};
    this.catalog.draftForms = this.forms;
    this.status(`Formularen er gemt i udkastet (revision ${draft.revision}).`);
  }

  formEditorClosed() {
    $('studio-formeditor-frame').src = 'about:blank';
    this.setEnabled();
    this.scheduleCheck(0);  // the draft's forms may have changed
  }

  showNewForm() {
    const form = $('studio-new');
    form.hidden = false;
    const units = $('studio-new-units');
    units.replaceChildren(...(this.catalog.units || []).map((u) => {
      const label = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.name = 'unit';
      box.value = u.id;
      box.checked = true;
      label.append(box, document.createTextNode(` ${u.name && u.name !== u.id ? `${u.name} (${u.id})` : u.id}`));
      return label;
    }));
    form.addEventListener('submit', (event) => { event.preventDefault(); this.createJourney(form); });
    this.setEnabled();
    $('studio-new-key').focus();
  }

  async createJourney(form) {
    const key = $('studio-new-key').value.trim();
    const name = $('studio-new-name').value.trim() || key;
    const error = $('studio-new-error');
    error.textContent = '';
    if (!KEY_PATTERN.test(key)) {
      error.textContent = 'Nøglen skal begynde med et lille bogstav og må kun have små bogstaver (a–z), tal og _.';
      $('studio-new-key').focus();
      return;
    }
    if ((this.catalog.processes || []).includes(key)) {
      error.textContent = `Forløbet ${key} findes allerede. Åbn det fra listen over forløb i stedet.`;
      return;
    }
    try {
      await this.api.getDraft(key);
      error.textContent = `Der findes allerede et udkast med nøglen ${key}.`;
      return;
    } catch (err) {
      if (err.status !== 404) { error.textContent = err.message; return; }
    }
    const units = [...form.querySelectorAll('input[name=unit]:checked')].map((b) => b.value);
    this.key = key;
    this.revision = null;
    this.baseVersion = null;
    await this.importXml(journeyTemplate(key, name, units));
    this.dirty = true;
    form.hidden = true;
    $('studio-title').textContent = `Nyt forløb: ${name}`;
    this.status('Det nye forløb er ikke gemt endnu.');
    this.setEnabled();
    $('studio-save').focus();
  }
}

function boot() {
  const config = readConfig();
  const studio = new Studio(config);
  studio.start().catch((err) => {
    const box = $('studio-alert');
    box.hidden = false;
    box.textContent = `Modelleringsværktøjet kunne ikke starte: ${err.message}`;
  });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();

export { ApiError };

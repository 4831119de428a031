/**
 * The script of a `rlp viz` HTML page (plain browser JavaScript, inlined): switch views, pan and
 * zoom the SVG, click a node to see its op, type, stage and source, search nodes by name.
 */
export const PAGE_SCRIPT = String.raw`
(() => {
  const data = JSON.parse(document.getElementById('rlp-data').textContent);
  const info = document.getElementById('info');
  const search = document.getElementById('search');
  const hits = document.getElementById('hits');
  const views = [...document.querySelectorAll('.view')];
  let current = views[0];
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
  const boxes = new Map();
  for (const v of views) {
    const svg = v.querySelector('svg');
    const vb = svg.viewBox.baseVal;
    boxes.set(v, { x: vb.x, y: vb.y, w: vb.width, h: vb.height, home: { x: vb.x, y: vb.y, w: vb.width, h: vb.height } });
    svg.removeAttribute('width');
    svg.removeAttribute('height');
  }
  const apply = () => {
    const b = boxes.get(current);
    current.querySelector('svg').setAttribute('viewBox', b.x + ' ' + b.y + ' ' + b.w + ' ' + b.h);
  };
  const show = (name) => {
    for (const v of views) v.hidden = v.dataset.view !== name;
    current = views.find((v) => v.dataset.view === name) || views[0];
    for (const b of document.querySelectorAll('button[data-view]')) b.classList.toggle('on', b.dataset.view === name);
    apply();
    runSearch();
  };
  const toSvg = (e) => {
    const svg = current.querySelector('svg');
    const p = svg.createSVGPoint();
    p.x = e.clientX;
    p.y = e.clientY;
    return p.matrixTransform(svg.getScreenCTM().inverse());
  };
  const canvas = document.getElementById('canvas');
  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    const b = boxes.get(current);
    const p = toSvg(e);
    const k = Math.exp(e.deltaY * 0.0015);
    b.x = p.x - (p.x - b.x) * k;
    b.y = p.y - (p.y - b.y) * k;
    b.w *= k;
    b.h *= k;
    apply();
  }, { passive: false });
  let drag = null;
  canvas.addEventListener('mousedown', (e) => {
    if (e.target.closest('g.node')) return;
    drag = { x: e.clientX, y: e.clientY };
    canvas.classList.add('dragging');
  });
  window.addEventListener('mouseup', () => { drag = null; canvas.classList.remove('dragging'); });
  window.addEventListener('mousemove', (e) => {
    if (drag === null) return;
    const b = boxes.get(current);
    const svg = current.querySelector('svg');
    const scale = b.w / svg.getBoundingClientRect().width;
    b.x -= (e.clientX - drag.x) * scale;
    b.y -= (e.clientY - drag.y) * scale;
    drag = { x: e.clientX, y: e.clientY };
    apply();
  });
  const nodeInfo = (g) => (data[current.dataset.view] || {})[g.id];
  const select = (g) => {
    for (const s of document.querySelectorAll('g.node.selected')) s.classList.remove('selected');
    g.classList.add('selected');
    const d = nodeInfo(g);
    if (!d) return;
    const spans = d.spans.map((s) =>
      '<div class="span"><div class="loc">' + esc(s.file) + ':' + s.line + ':' + s.column + '</div>' +
      '<pre class="line">' + esc(s.lineText) + '</pre><code class="text">' + esc(s.text) + '</code></div>').join('');
    info.innerHTML = '<h2>' + esc(d.title) + '</h2><dl>' +
      '<dt>op</dt><dd class="op">' + esc(d.op) + '</dd>' +
      '<dt>type</dt><dd class="type">' + esc(d.type) + '</dd>' +
      '<dt>stage</dt><dd class="stage">' + esc(d.stage === null ? '(an input of the pipeline)' : d.stage) + '</dd></dl>' +
      (d.notes.length > 0 ? '<ul class="notes">' + d.notes.map((n) => '<li>' + esc(n) + '</li>').join('') + '</ul>' : '') +
      '<h3>source</h3>' + (spans || '<p class="none">no source span</p>');
  };
  const center = (g) => {
    const b = boxes.get(current);
    const r = g.getBBox();
    b.x = r.x + r.width / 2 - b.w / 2;
    b.y = r.y + r.height / 2 - b.h / 2;
    apply();
  };
  canvas.addEventListener('click', (e) => {
    const g = e.target.closest('g.node');
    if (g) select(g);
  });
  function runSearch() {
    const q = search.value.trim().toLowerCase();
    const nodes = [...current.querySelectorAll('g.node')];
    let n = 0;
    for (const g of nodes) {
      const d = nodeInfo(g);
      const hit = q !== '' && d !== undefined && d.search.some((s) => s.toLowerCase().includes(q));
      g.classList.toggle('hit', hit);
      g.classList.toggle('dim', q !== '' && !hit);
      if (hit) n++;
    }
    hits.textContent = q === '' ? '' : n + ' found';
    return nodes.filter((g) => g.classList.contains('hit'));
  }
  search.addEventListener('input', runSearch);
  search.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    const found = runSearch();
    if (found.length > 0) { select(found[0]); center(found[0]); }
  });
  for (const b of document.querySelectorAll('button[data-view]')) b.addEventListener('click', () => show(b.dataset.view));
  document.getElementById('fit').addEventListener('click', () => {
    const b = boxes.get(current);
    Object.assign(b, b.home);
    apply();
  });
  show(document.body.dataset.initial || views[0].dataset.view);
})();
`;

/** The script of a run report (plain browser JavaScript, inlined after uPlot): draws the charts, filters the samples. */
export const REPORT_SCRIPT = String.raw`
(() => {
  const d = JSON.parse(document.getElementById('rlp-report').textContent);
  const palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
  document.querySelectorAll('.chart').forEach((el, i) => {
    const c = d.charts[i];
    const series = [{ label: 'step' }].concat(c.series.map((s, k) => ({
      label: s.label, stroke: palette[k % palette.length], width: 1.5, points: { show: true, size: 5 }, spanGaps: true,
    })));
    const u = new uPlot({
      title: c.title, width: Math.max(320, el.clientWidth - 8), height: 220,
      scales: { x: { time: false } }, series, axes: [{ label: 'step', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] }, { size: 64, values: (u, vals) => vals.map((v) => (v === null ? '' : String(+v.toPrecision(3)))) }], legend: { live: false },
    }, [d.steps].concat(c.series.map((s) => s.values)), el);
    el.dataset.points = String(u.data[0].length);
    el.dataset.series = String(u.series.length - 1);
  });
  const filter = document.getElementById('step-filter');
  if (filter) filter.addEventListener('change', () => {
    for (const tr of document.querySelectorAll('#samples-table tbody tr')) tr.hidden = filter.value !== '' && tr.dataset.step !== filter.value;
  });
  document.body.dataset.ready = 'true';
})();
`;

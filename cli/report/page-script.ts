/**
 * The browser side of report.html, as text inlined into the page (plain ES2017, no modules, no network).
 *
 * ERROR_TRAP runs first, before uPlot: it records script errors, failed loads, unhandled rejections and
 * console.error calls. PAGE_SCRIPT renders the tables and the uPlot charts from the embedded JSON, then checks
 * that every chart drew (each series' colour is found on its canvas) and writes the outcome to the
 * `#report-status` element (data-state="done", data-plots, data-drawn, data-errors), which the browser test reads.
 */

export const ERROR_TRAP = String.raw`
window.__reportErrors = [];
window.addEventListener('error', function (e) {
  var where = e.filename ? ' (' + e.filename.split('/').pop() + ':' + e.lineno + ')' : '';
  window.__reportErrors.push((e.message || ('failed to load ' + ((e.target && (e.target.src || e.target.href)) || e.type))) + where);
}, true);
window.addEventListener('unhandledrejection', function (e) { window.__reportErrors.push('unhandled rejection: ' + String(e.reason)); });
(function () {
  var original = console.error;
  console.error = function () {
    window.__reportErrors.push(Array.prototype.map.call(arguments, String).join(' '));
    return original.apply(console, arguments);
  };
})();
`;

export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var runs = data.runs;
  var PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
  var plots = [];

  // ---- formatting --------------------------------------------------------------------------------------------
  function finite(x) { return typeof x === 'number' && isFinite(x); }
  function pct(x, d) { return finite(x) ? (100 * x).toFixed(d) + ' %' : '–'; }
  function num(x, d) { return finite(x) ? (Math.abs(x) >= 1e5 ? x.toExponential(2) : x.toFixed(d)) : '–'; }
  function int(x) { return finite(x) ? Math.round(x).toLocaleString('en-US') : '–'; }
  function compact(x) {
    if (!finite(x)) return '–';
    var a = Math.abs(x);
    if (a >= 1e9) return (x / 1e9).toFixed(2) + ' G';
    if (a >= 1e6) return (x / 1e6).toFixed(2) + ' M';
    if (a >= 1e4) return (x / 1e3).toFixed(1) + ' k';
    return Number.isInteger(x) ? String(x) : x.toFixed(1);
  }
  function duration(s) {
    if (!finite(s) || s < 0) return '–';
    if (s < 60) return s.toFixed(1) + ' s';
    var r = Math.round(s), h = Math.floor(r / 3600), m = Math.floor((r % 3600) / 60), sec = r % 60;
    var p = function (n) { return (n < 10 ? '0' : '') + n; };
    return h > 0 ? h + 'h' + p(m) + 'm' + p(sec) + 's' : m + 'm' + p(sec) + 's';
  }
  function get(o, path) {
    return path.split('.').reduce(function (v, k) { return v !== null && v !== undefined ? v[k] : undefined; }, o);
  }

  // ---- DOM helpers -------------------------------------------------------------------------------------------
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function section(id, title, note) {
    var s = el('section', { id: id }, [el('h2', {}, [title])]);
    if (note) s.appendChild(el('p', { class: 'note' }, [note]));
    document.getElementById('report').appendChild(s);
    return s;
  }
  function runColor(i) { return PALETTE[i % PALETTE.length]; }
  /** Several runs: one colour per run (the kind of series told by its dash); one run: a colour per kind. */
  function seriesColor(run, kind) { return runs.length > 1 ? runColor(run) : PALETTE[kind % PALETTE.length]; }

  // ---- what the runs recorded --------------------------------------------------------------------------------
  function records(run, kind) { return run.metrics.filter(function (r) { return r.kind === kind; }); }
  /** The figures of all training steps: summary.json's train, else the last epoch record's. */
  function trainFigures(run) {
    if (run.summary && run.summary.train) return run.summary.train;
    var ep = records(run, 'epoch');
    return ep.length ? ep[ep.length - 1].train : null;
  }
  /** [step, figures] of every validation pass: eval, epoch (its validation) and final records, by step. */
  function validations(run) {
    var seen = {}, out = [];
    run.metrics.forEach(function (r) {
      var f = r.kind === 'eval' || r.kind === 'final' ? r : r.kind === 'epoch' ? r.validation : null;
      if (f && !seen[r.step]) { seen[r.step] = true; out.push([r.step, f, r.wall_seconds]); }
    });
    return out.sort(function (a, b) { return a[0] - b[0]; });
  }
  function perSample(f, v) { return f && finite(v) && f.samples > 0 ? v / f.samples : null; }

  // ---- header and summary ------------------------------------------------------------------------------------
  var FIGURE_ROWS = [
    ['accuracy', 'accuracy', 'pct2'], ['loss', 'loss', 'num'], ['perplexity', 'perplexity', 'num'], ['bpc', 'bits per character', 'num'],
    ['activity_sparsity', 'activity sparsity', 'pct1'], ['backward_sparsity', 'backward sparsity', 'pct1'],
    ['events', 'events', 'count'], ['unit_steps', 'unit-steps', 'count'],
    ['messages.forward.packets', 'forward packets', 'count'], ['messages.forward.items', 'forward items', 'count'], ['messages.forward.bytes', 'forward bytes', 'count'],
    ['messages.backward.packets', 'backward packets', 'count'], ['messages.backward.items', 'backward items', 'count'], ['messages.backward.bytes', 'backward bytes', 'count'],
    ['messages.control.packets', 'control packets', 'count'], ['messages.control.items', 'control items', 'count'], ['messages.control.bytes', 'control bytes', 'count'],
    ['macs.forward', 'MACs forward', 'count'], ['macs.dense_forward', 'MACs forward, dense GRU', 'count'],
    ['macs.backward', 'MACs backward', 'count'], ['macs.dense_backward', 'MACs backward, dense GRU', 'count'],
    ['samples', 'samples', 'int'],
  ];
  var RUN_ROWS = [['stopped', 'stopped', 'text'], ['steps', 'steps', 'int'], ['epochs', 'epochs', 'num2'], ['samples_seen', 'samples seen', 'int'],
    ['wall_seconds', 'wall time', 'duration'], ['figures_from', 'final figures from', 'text']];

  function show(v, how, f) {
    if (v === null || v === undefined) return '–';
    if (how === 'pct2') return pct(v, 2);
    if (how === 'pct1') return pct(v, 1);
    if (how === 'num') return num(v, 4);
    if (how === 'num2') return num(v, 2);
    if (how === 'int') return int(v);
    if (how === 'duration') return duration(v);
    if (how === 'count') return int(v) + ' (' + compact(perSample(f, v)) + ' / sample)';
    return String(v);
  }

  function summaryTable() {
    var s = section('summary', 'Summary', 'From summary.json: the final figures (the validation set, else training) and those of all training steps. Counts are totals, with the mean per sequence.');
    var cols = [];
    runs.forEach(function (run, i) {
      if (!run.summary) return;
      cols.push({ run: i, set: 'final', label: run.name + ': final (' + (run.summary.figures_from || '?') + ')', f: run.summary });
      if (run.summary.train) cols.push({ run: i, set: 'train', label: run.name + ': training', f: run.summary.train });
    });
    var missing = runs.filter(function (r) { return !r.summary; }).map(function (r) { return r.name; });
    if (missing.length) s.appendChild(el('p', { class: 'note' }, ['No summary.json (an interrupted run writes none): ' + missing.join(', ')]));
    if (!cols.length) return;
    var table = el('table', { class: 'figures' }, [el('tr', {}, [el('th', {}, [''])].concat(cols.map(function (c) { return el('th', {}, [c.label]); })))]);
    var rows = RUN_ROWS.map(function (r) { return r.concat(['run']); }).concat(FIGURE_ROWS.map(function (r) { return r.concat(['figure']); }));
    rows.forEach(function (row) {
      var path = row[0], how = row[2];
      var present = cols.some(function (c) { return get(c.f, path) !== undefined; });
      if (!present) return;
      var tr = el('tr', {}, [el('th', {}, [row[1]])]);
      cols.forEach(function (c) {
        var isRun = row[3] === 'run';
        if (isRun && c.set !== 'final') { tr.appendChild(el('td', {}, [''])); return; }
        var v = get(c.f, path);
        tr.appendChild(el('td', { 'data-run': String(c.run), 'data-set': c.set, 'data-figure': path, 'data-value': JSON.stringify(v === undefined ? null : v) }, [show(v, how, c.f)]));
      });
      table.appendChild(tr);
    });
    s.appendChild(table);
  }

  // ---- charts ------------------------------------------------------------------------------------------------
  function plotBox(parent, title, note) {
    var box = el('div', { class: 'plot' }, [el('h3', {}, [title])]);
    if (note) box.appendChild(el('p', { class: 'note' }, [note]));
    parent.appendChild(box);
    return box;
  }
  function hasValue(ys) { return ys.some(finite); }
  function pctAxis(u, splits) { return splits.map(function (v) { return finite(v) ? (100 * v).toFixed(0) + ' %' : ''; }); }

  /** A line chart of several series, each { label, color, dash, points, xs, ys }, on the union of their x values. */
  function lineChart(parent, title, xLabel, yLabel, series, opts) {
    series = series.filter(function (s) { return hasValue(s.ys); });
    var box = plotBox(parent, title, series.length ? opts.note : 'not recorded in these runs');
    if (!series.length) return;
    var xs = [];
    series.forEach(function (s) { s.xs.forEach(function (x) { if (xs.indexOf(x) < 0) xs.push(x); }); });
    xs.sort(function (a, b) { return a - b; });
    var columns = series.map(function (s) {
      var at = {};
      s.xs.forEach(function (x, k) { at[x] = finite(s.ys[k]) ? s.ys[k] : null; });
      return xs.map(function (x) { return at[x] === undefined ? null : at[x]; });
    });
    var u = new uPlot({
      width: box.clientWidth - 8, height: 260,
      scales: { x: { time: false } },
      axes: [{ label: xLabel }, { label: yLabel, size: 60, values: opts.percent ? pctAxis : undefined }],
      series: [{ label: xLabel }].concat(series.map(function (s) {
        return { label: s.label, stroke: s.color, width: 2, dash: s.dash, spanGaps: true, paths: s.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
          points: s.points ? { show: true, size: 7, fill: s.color, stroke: s.color } : { show: false } };
      })),
    }, [xs].concat(columns), box);
    plots.push({ title: title, u: u, colors: series.map(function (s) { return s.color; }) });
  }

  /** A bar chart: categories along x, one bar per run in each (runs side by side). */
  function barChart(parent, title, yLabel, categories, values /* [run][category] */, note) {
    var R = runs.length, slot = R + 1;
    var box = plotBox(parent, title, note);
    var xs = [];
    for (var k = 0; k < categories.length * slot - 1; k++) xs.push(k);
    var columns = values.map(function (vals, r) {
      return xs.map(function (x) { var c = Math.floor(x / slot); return x % slot === r && finite(vals[c]) ? vals[c] : null; });
    });
    var shown = values.map(function (vals) { return vals.some(function (v) { return finite(v) && v > 0; }); });
    if (!shown.some(Boolean)) { box.appendChild(el('p', { class: 'note' }, ['not recorded in these runs'])); return; }
    var centers = categories.map(function (_, c) { return c * slot + (R - 1) / 2; });
    var u = new uPlot({
      width: box.clientWidth - 8, height: 260,
      scales: { x: { time: false, range: function () { return [-0.7, categories.length * slot - 1.3]; } }, y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } } },
      axes: [
        { splits: function () { return centers; }, values: function (u, splits) { return splits.map(function (s) { return categories[Math.round((s - (R - 1) / 2) / slot)] || ''; }); }, grid: { show: false } },
        { label: yLabel, size: 70 },
      ],
      series: [{ label: 'category' }].concat(runs.map(function (run, r) {
        return { label: run.name, stroke: runColor(r), fill: runColor(r), width: 1, paths: uPlot.paths.bars({ size: [0.9, 80], align: 0 }), points: { show: false } };
      })),
    }, [xs].concat(columns), box);
    plots.push({ title: title, u: u, colors: runs.map(function (_, r) { return runColor(r); }).filter(function (_, r) { return shown[r]; }) });
  }

  /** Series of a figure over training: the step records (training) and the validation passes, per run. */
  function overTraining(field, trainValue) {
    var out = [];
    runs.forEach(function (run, i) {
      var steps = records(run, 'step');
      var name = runs.length > 1 ? run.name + ': ' : '';
      out.push({ label: name + 'training', color: seriesColor(i, 0), xs: steps.map(function (r) { return r.step; }), ys: steps.map(trainValue || function (r) { return r[field]; }) });
      var v = validations(run);
      out.push({ label: name + 'validation', color: seriesColor(i, 1), dash: [6, 4], points: true,
        xs: v.map(function (p) { return p[0]; }), ys: v.map(function (p) { return field === 'events_per_sample' ? perSample(p[1], p[1].events) : p[1][field]; }) });
    });
    return out;
  }

  function learningCurves() {
    var s = section('curves', 'Learning curves', 'Training: the mean over the steps since the previous step record (--log-every); validation: every --eval-every steps, after each epoch and at the end.');
    var grid = s.appendChild(el('div', { class: 'grid' }));
    lineChart(grid, 'Loss', 'step', 'loss', overTraining('loss'), {});
    lineChart(grid, 'Accuracy', 'step', 'accuracy', overTraining('accuracy'), { percent: true });
    // language models (per-step targets) log bits per character with every step record
    var hasBpc = runs.some(function (run) { return records(run, 'step').some(function (r) { return finite(r.bpc); }); });
    if (hasBpc) lineChart(grid, 'Bits per character', 'step', 'bits per character', overTraining('bpc'), {});
    var wall = [];
    runs.forEach(function (run, i) {
      var steps = records(run, 'step').filter(function (r) { return finite(r.wall_seconds); });
      var ep = records(run, 'epoch').filter(function (r) { return r.validation && finite(r.wall_seconds); });
      var name = runs.length > 1 ? run.name + ': ' : '';
      wall.push({ label: name + 'training', color: seriesColor(i, 0), xs: steps.map(function (r) { return r.wall_seconds; }), ys: steps.map(function (r) { return r.loss; }) });
      wall.push({ label: name + 'validation (epochs)', color: seriesColor(i, 1), dash: [6, 4], points: true, xs: ep.map(function (r) { return r.wall_seconds; }), ys: ep.map(function (r) { return r.validation.loss; }) });
    });
    lineChart(grid, 'Loss against wall time', 'wall time (s)', 'loss', wall, {});
  }

  function activity() {
    var s = section('activity', 'Activity', 'Activity sparsity = 1 − events / unit-steps; backward sparsity = the share of unit-steps without a backward pass (docs/figures.md).');
    var grid = s.appendChild(el('div', { class: 'grid' }));
    var sp = [];
    runs.forEach(function (run, i) {
      var steps = records(run, 'step'), v = validations(run);
      var name = runs.length > 1 ? run.name + ': ' : '';
      var c = function (k) { return seriesColor(i, k); };
      sp.push({ label: name + 'activity sparsity (training)', color: c(0), xs: steps.map(function (r) { return r.step; }), ys: steps.map(function (r) { return r.activity_sparsity; }) });
      sp.push({ label: name + 'backward sparsity (training)', color: c(1), dash: [2, 3], xs: steps.map(function (r) { return r.step; }), ys: steps.map(function (r) { return r.backward_sparsity; }) });
      sp.push({ label: name + 'activity sparsity (validation)', color: c(2), dash: [6, 4], points: true, xs: v.map(function (p) { return p[0]; }), ys: v.map(function (p) { return p[1].activity_sparsity; }) });
    });
    lineChart(grid, 'Sparsity', 'step', 'sparsity', sp, { percent: true });
    lineChart(grid, 'Events per sample', 'step', 'events / sequence', overTraining('events_per_sample', function (r) { return finite(r.samples) && r.samples > 0 ? r.events / r.samples : null; }), {});
    firingRates(s, grid);
  }

  /**
   * Where a run's per-unit firing rates come from: training (summary.json train.firing, counted by the runtime)
   * and a replay of the final checkpoint on validation samples (firing.json, egru report --firing-rates).
   */
  function firingSources(run) {
    var out = [];
    var t = run.summary && run.summary.train && run.summary.train.firing;
    if (t && Array.isArray(t.layers)) out.push({ kind: 'training', layers: t.layers, what: 'training' + (t.since_step ? ' after step ' + t.since_step : '') });
    var f = run.firing;
    if (f && f.format === 'egru-firing-rates') out.push({ kind: 'replay', layers: f.layers, what: f.samples + ' samples of ' + f.source });
    return out;
  }
  function countRates(rates, rate) { return rates.filter(function (r) { return r === rate; }).length; }

  /**
   * Histograms of the units' firing rates, one chart per layer, one stepped line per run and source (training
   * solid, replay dashed); the dead (never firing) and always-on units of each in a table below the charts.
   */
  function firingRates(s, grid) {
    var sources = runs.map(firingSources);
    var missing = runs.filter(function (r, i) { return !sources[i].length; }).map(function (r) { return r.name; });
    if (missing.length)
      s.appendChild(el('p', { class: 'note', id: 'firing-rates' }, ['Firing-rate histograms per layer: no per-unit event counts for ' + missing.join(', ') +
        ' (training records them in summary.json; an interrupted run, or one of an older version, has none). egru report RUN_DIR --firing-rates measures them on validation samples with the final checkpoint.']));
    var layers = 0;
    sources.forEach(function (list) { list.forEach(function (src) { layers = Math.max(layers, src.layers.length); }); });
    if (!layers) return;
    var BINS = 20, edges = [];
    for (var k = 0; k <= BINS; k++) edges.push(k / BINS);
    var head = ['run', 'measured on', 'layer', 'units', 'dead (never fired)', 'always on (every step)'];
    var table = el('table', { id: 'firing-table' }, [el('tr', {}, head.map(function (h) { return el('th', {}, [h]); }))]);
    for (var l = 0; l < layers; l++) {
      var series = [];
      runs.forEach(function (run, i) {
        sources[i].forEach(function (src) {
          var layer = src.layers[l];
          if (!layer) return;
          var counts = edges.map(function () { return 0; });
          layer.rates.forEach(function (r) { counts[Math.min(BINS - 1, Math.floor(r * BINS))]++; });
          var shares = counts.map(function (c) { return c / layer.units; });
          shares[BINS] = shares[BINS - 1]; // the last step's right edge
          var dead = countRates(layer.rates, 0), on = countRates(layer.rates, 1);
          series.push({ label: (runs.length > 1 ? run.name + ': ' : '') + (src.kind === 'training' ? 'training' : 'final checkpoint') + ' (' + dead + ' dead, ' + on + ' always on)',
            color: seriesColor(i, src.kind === 'training' ? 0 : 1), dash: src.kind === 'replay' ? [6, 4] : undefined, xs: edges, ys: shares, stepped: true });
          table.appendChild(el('tr', { 'data-run': String(i), 'data-source': src.kind, 'data-layer': String(l) },
            [run.name, src.what, String(l), String(layer.units), String(dead), String(on)].map(function (c) { return el('td', {}, [c]); })));
        });
      });
      lineChart(grid, 'Firing rates, layer ' + l, 'events per step', 'share of units', series,
        { percent: true, note: 'The share of the units at each firing rate (events per step, 20 bins). Solid: over all training steps; dashed: the final checkpoint on validation samples.' });
    }
    s.appendChild(table);
  }

  function traffic() {
    var s = section('traffic', 'Messages and MACs', 'Per training sequence, over all training steps (summary.json train, else the last epoch record). MACs: what the kernels did, next to a dense GRU of the same shape.');
    var grid = s.appendChild(el('div', { class: 'grid' }));
    var kinds = ['forward', 'backward', 'control'];
    var tf = runs.map(trainFigures);
    barChart(grid, 'Message items per sample', 'items / sequence', kinds, tf.map(function (f) { return kinds.map(function (k) { return f ? perSample(f, f.messages[k].items) : null; }); }));
    barChart(grid, 'Message bytes per sample', 'bytes / sequence', kinds, tf.map(function (f) { return kinds.map(function (k) { return f ? perSample(f, f.messages[k].bytes) : null; }); }));
    var macs = [['forward', 'forward'], ['dense_forward', 'dense GRU fwd'], ['backward', 'backward'], ['dense_backward', 'dense GRU bwd']];
    barChart(grid, 'MACs per sample against a dense GRU', 'MACs / sequence', macs.map(function (m) { return m[1]; }), tf.map(function (f) { return macs.map(function (m) { return f ? perSample(f, f.macs[m[0]]) : null; }); }));
  }

  // ---- traffic between actors -------------------------------------------------------------------------------
  /**
   * Items per (source, destination) actor pair, forward and backward: summary.json's train.pairs, else the sum of
   * the step records' pairs_items (an interrupted run); null when neither is there.
   */
  function pairTotals(run) {
    var pairs = run.summary && run.summary.train && run.summary.train.pairs;
    if (Array.isArray(pairs) && pairs.length) {
      var pick = function (dir) { return pairs.map(function (row) { return row.map(function (c) { return c[dir].items; }); }); };
      var since = run.summary.train.pairs_since_step;
      return { actors: pairs.length, forward: pick('forward'), backward: pick('backward'),
        from: 'summary.json train.pairs' + (since ? ' (the steps after step ' + since + ', where a resume changed the actor count)' : '') };
    }
    var steps = records(run, 'step').filter(function (r) { return Array.isArray(r.pairs_items); });
    if (!steps.length) return null;
    var G = steps[0].actors, out = { actors: G, forward: [], backward: [], from: 'the sum of the step records' };
    for (var s = 0; s < G; s++) { out.forward.push([]); out.backward.push([]); for (var d = 0; d < G; d++) { out.forward[s].push(0); out.backward[s].push(0); } }
    steps.forEach(function (r) {
      for (var s = 0; s < G; s++) for (var d = 0; d < G; d++) { out.forward[s][d] += r.pairs_items[2 * (s * G + d)]; out.backward[s][d] += r.pairs_items[2 * (s * G + d) + 1]; }
    });
    return out;
  }
  /** The run's actor count: from its pair counts, else config.json. */
  function actorCount(run, totals) { return totals ? totals.actors : run.config && finite(run.config.actors) ? run.config.actors : null; }

  var HEAT = { forward: [31, 119, 180], backward: [214, 39, 40] };
  function hex(c) { return '#' + c.map(function (v) { return (v < 16 ? '0' : '') + v.toString(16); }).join(''); }
  /** White (0) to the direction's colour (the largest value of the grid). */
  function heatColor(dir, share) { return hex(HEAT[dir].map(function (v) { return Math.round(255 + (v - 255) * share); })); }

  /**
   * A heatmap per direction, side by side on one canvas: rows = the sending actor ("from actor"), columns = the
   * receiving one ("to actor"), each cell coloured by its share of the grid's largest value and labelled with the
   * number. The same numbers go into a table inside the canvas element (what screen readers and tests read).
   */
  function heatmap(parent, run, i, t) {
    var G = t.actors, left = 56, top = 52, gap = 40;
    var box = plotBox(parent, 'Message items between actors: ' + run.name, 'Training, from ' + t.from + '. Rows: the sending actor; columns: the receiving one.');
    if (G > 4) box.style.gridColumn = '1 / -1'; // the whole row, so that the numbers still fit in the cells
    var cell = Math.max(12, Math.min(64, Math.floor((box.clientWidth - 16 - 2 * left - gap) / (2 * G))));
    var gridW = G * cell, width = 2 * (left + gridW) + gap, height = top + gridW + 8;
    var cellFont = Math.min(11, Math.floor(cell / 3)) + 'px system-ui, sans-serif';
    var ratio = window.devicePixelRatio || 1;
    var canvas = el('canvas', { class: 'heatmap', 'data-run': String(i), width: String(Math.round(width * ratio)), height: String(Math.round(height * ratio)), style: 'width:' + width + 'px;height:' + height + 'px' });
    var ctx = canvas.getContext('2d');
    ctx.scale(ratio, ratio);
    var table = el('table', {}, [el('tr', {}, [el('th', {}, ['direction']), el('th', {}, ['from actor']), el('th', {}, ['to actor']), el('th', {}, ['items'])])]);
    var colors = [];
    ['forward', 'backward'].forEach(function (dir, k) {
      var x0 = k * (left + gridW + gap) + left, grid = t[dir];
      var max = Math.max.apply(null, grid.map(function (row) { return Math.max.apply(null, row); }));
      colors.push(heatColor(dir, max > 0 ? 1 : 0));
      ctx.fillStyle = '#222'; ctx.font = '600 13px system-ui, sans-serif'; ctx.textAlign = 'center'; ctx.textBaseline = 'alphabetic';
      ctx.fillText(dir + ' items', x0 + gridW / 2, 13);
      ctx.font = '11px system-ui, sans-serif'; ctx.fillStyle = '#444';
      ctx.fillText('to actor', x0 + gridW / 2, 30);
      for (var s = 0; s < G; s++) for (var d = 0; d < G; d++) {
        var v = grid[s][d], share = max > 0 ? v / max : 0, x = x0 + d * cell, y = top + s * cell;
        ctx.fillStyle = heatColor(dir, share);
        ctx.fillRect(x, y, cell - 1, cell - 1);
        var label = compact(v);
        if (cell >= 24) { ctx.font = cellFont; ctx.fillStyle = share > 0.55 ? '#fff' : '#222'; ctx.textBaseline = 'middle'; ctx.fillText(label, x + cell / 2, y + cell / 2); }
        table.appendChild(el('tr', {}, [el('td', {}, [dir]), el('td', {}, [String(s)]), el('td', {}, [String(d)]),
          el('td', { 'data-dir': dir, 'data-src': String(s), 'data-dst': String(d), 'data-value': String(v) }, [label])]));
      }
      ctx.fillStyle = '#444'; ctx.textBaseline = 'middle'; ctx.font = '11px system-ui, sans-serif';
      for (var a = 0; a < G; a++) {
        ctx.textAlign = 'center'; ctx.fillText(String(a), x0 + a * cell + cell / 2, top - 10);
        ctx.textAlign = 'right'; ctx.fillText(String(a), x0 - 6, top + a * cell + cell / 2);
      }
      ctx.save(); ctx.translate(x0 - 28, top + gridW / 2); ctx.rotate(-Math.PI / 2); ctx.textAlign = 'center'; ctx.fillText('from actor', 0, 0); ctx.restore();
    });
    canvas.appendChild(table);
    box.appendChild(canvas);
    plots.push({ title: box.firstChild.textContent, canvas: canvas, colors: colors });
  }

  function actorTraffic() {
    var s = section('actor-traffic', 'Traffic between actors', 'Message items each actor sent to each other actor during training (forward: events; backward: gradient items). Per step: the step records (pairs_items, at --log-every).');
    var grid = s.appendChild(el('div', { class: 'grid' }));
    var series = [];
    runs.forEach(function (run, i) {
      var t = pairTotals(run), G = actorCount(run, t);
      if (G === 1) { s.insertBefore(el('p', { class: 'note' }, [run.name + ': one actor: no inter-actor traffic']), grid); return; }
      if (!t) { s.insertBefore(el('p', { class: 'note' }, [run.name + ': traffic per actor pair not recorded (a run of an older version)']), grid); return; }
      heatmap(grid, run, i, t);
      var steps = records(run, 'step').filter(function (r) { return Array.isArray(r.pairs_items) && r.samples > 0; });
      var between = function (r, k) {
        var sum = 0;
        for (var a = 0; a < r.actors; a++) for (var b = 0; b < r.actors; b++) if (a !== b) sum += r.pairs_items[2 * (a * r.actors + b) + k];
        return sum / r.samples;
      };
      var name = runs.length > 1 ? run.name + ': ' : '';
      var xs = steps.map(function (r) { return r.step; });
      series.push({ label: name + 'forward', color: seriesColor(i, 0), xs: xs, ys: steps.map(function (r) { return between(r, 0); }) });
      series.push({ label: name + 'backward', color: seriesColor(i, 1), dash: [6, 4], xs: xs, ys: steps.map(function (r) { return between(r, 1); }) });
    });
    if (series.length) lineChart(grid, 'Items between actors per sample over training', 'step', 'items / sequence', series,
      { note: 'All pairs of different actors, per training sequence, over the steps since the previous step record.' });
  }

  // ---- config and hardware -----------------------------------------------------------------------------------
  function flatten(o, prefix, into) {
    Object.keys(o || {}).forEach(function (k) {
      var v = o[k];
      if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, prefix + k + '.', into);
      else into[prefix + k] = Array.isArray(v) ? v.join(',') : v === null ? '–' : String(v);
    });
    return into;
  }
  function keyValueTable(id, columns, rowsOf) {
    var flat = rowsOf.map(function (o) { return flatten(o, '', {}); });
    var keys = [];
    flat.forEach(function (f) { Object.keys(f).forEach(function (k) { if (keys.indexOf(k) < 0) keys.push(k); }); });
    var table = el('table', { class: 'kv', id: id }, [el('tr', {}, [el('th', {}, [''])].concat(columns.map(function (c) { return el('th', {}, [c]); })))]);
    keys.forEach(function (k) {
      table.appendChild(el('tr', {}, [el('th', {}, [k])].concat(flat.map(function (f) { return el('td', {}, [f[k] === undefined ? '' : f[k]]); }))));
    });
    return table;
  }
  function config() {
    var s = section('config', 'Configuration', 'config.json of each run.');
    s.appendChild(keyValueTable('config-table', runs.map(function (r) { return r.name; }), runs.map(function (r) { return r.config || {}; })));
  }
  function hardware() {
    var s = section('hardware', 'Hardware estimate');
    var cols = [], reports = [];
    runs.forEach(function (run) {
      var h = run.hardware;
      (Array.isArray(h) ? h : h ? [h] : []).forEach(function (rep) {
        if (!rep || rep.format !== 'egru-hardware-report') return;
        cols.push(run.name + ': ' + rep.preset.name);
        reports.push({
          samples: rep.trace.samples, 'activity sparsity': pct(rep.trace.activitySparsity, 1),
          'energy / sample (event-driven)': rep.sparse.energyPerSample.total.toExponential(3) + ' J',
          'energy / sample (dense)': rep.dense.energyPerSample.total.toExponential(3) + ' J',
          'of it static (event-driven)': rep.sparse.energyPerSample.static.toExponential(3) + ' J',
          'packets / sample (event-driven)': compact(rep.sparse.perSample.eventPackets), 'packets / sample (dense)': compact(rep.dense.perSample.eventPackets),
          'mean step latency': rep.sparse.latency.meanStep.toExponential(3) + ' s',
          'late steps': rep.sparse.latency.lateSteps + ' of ' + rep.sparse.latency.steps,
          'energy saving (dense ÷ event-driven)': finite(rep.saving.energyTotal) ? rep.saving.energyTotal.toFixed(2) + '×' : '–',
        });
      });
    });
    if (!reports.length) { s.appendChild(el('p', { class: 'note' }, ['No hardware estimate in the run directory. Save one with: egru hardware --checkpoint RUN_DIR/checkpoint.egru --json > RUN_DIR/hardware.json'])); return; }
    s.appendChild(el('p', { class: 'note' }, ['From hardware.json (egru hardware --json; docs/hardware.md).']));
    s.appendChild(keyValueTable('hardware-table', cols, reports));
  }

  // ---- the self-check ----------------------------------------------------------------------------------------
  function rgb(hex) { return [1, 3, 5].map(function (k) { return parseInt(hex.slice(k, k + 2), 16); }); }
  /** The canvas's pixels, read once (one read-back per canvas keeps the browser quiet). */
  function pixels(canvas) { return canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data; }
  /** True when some opaque pixel is (nearly) the colour. */
  function drawnIn(px, color) {
    var c = rgb(color);
    for (var k = 0; k < px.length; k += 4)
      if (px[k + 3] > 200 && Math.abs(px[k] - c[0]) + Math.abs(px[k + 1] - c[1]) + Math.abs(px[k + 2] - c[2]) < 24) return true;
    return false;
  }
  function check() {
    var status = document.getElementById('report-status');
    var missing = [];
    plots.forEach(function (p) {
      var canvas = p.canvas || p.u.root.querySelector('canvas');
      var px = canvas && canvas.width > 0 ? pixels(canvas) : null;
      var ok = px !== null && p.colors.every(function (c) { return drawnIn(px, c); });
      if (!ok) missing.push(p.title);
    });
    status.setAttribute('data-plots', String(plots.length));
    status.setAttribute('data-drawn', String(plots.length - missing.length));
    status.setAttribute('data-missing', JSON.stringify(missing));
    status.setAttribute('data-errors', JSON.stringify(window.__reportErrors));
    status.setAttribute('data-state', 'done');
    status.textContent = plots.length - missing.length + ' of ' + plots.length + ' charts drawn' + (window.__reportErrors.length ? '; errors: ' + window.__reportErrors.join('; ') : '');
  }

  try {
    learningCurves();
    activity();
    traffic();
    actorTraffic();
    summaryTable();
    config();
    hardware();
  } catch (e) {
    window.__reportErrors.push('report: ' + (e && e.stack ? e.stack : String(e)));
  }
  setTimeout(check, 50);
})();
`;

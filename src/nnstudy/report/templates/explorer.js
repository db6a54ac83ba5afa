// The explorer: decode the embedded runs once, then redraw from the controls and the URL hash.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  if (!$("explorer")) return;
  const FACTORS = ["initializer", "regularizer", "optimizer"];
  const HASH_KEYS = {dataset: "dataset", initializer: "init", regularizer: "reg", optimizer: "opt", seed: "seed"};
  const TRAIN = "#0072B2", DEV = "#E69F00", LAYERS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9"];
  const LOW = [0xf6, 0xcf, 0x7d], MID = [0xff, 0xff, 0xff], HIGH = [0x9c, 0xc8, 0xe8], MISSING_RGB = [0xcc, 0xcc, 0xcc];
  const SVG = "http://www.w3.org/2000/svg";
  let meta, series, frames, runIndex = new Map(), cellIndex = new Map();
  let frame = 0, timer = null;

  async function inflate(id) {
    const text = $(id).textContent.trim();
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  // ---- the data of one run
  const field = (run, name) => run[meta.fields.indexOf(name)];
  function cellOf(s) { return meta.cells[cellIndex.get(`${s.dataset}|${s.optimizer}|${s.regularizer}`)]; }
  function runsOf(s, seed) {
    const c = cellIndex.get(`${s.dataset}|${s.optimizer}|${s.regularizer}`);
    if (c === undefined) return [];
    const seeds = seed === "all" ? meta.levels.seed.map((_, k) => k) : [meta.levels.seed.map(String).indexOf(String(seed))];
    const init = meta.levels.initializer.indexOf(s.initializer);
    return seeds.map((k) => runIndex.get(`${c}|${init}|${k}`)).filter((r) => r !== undefined).map((r) => meta.runs[r]);
  }
  function decode(code, accuracy) {
    if (code === meta.series_missing) return NaN;
    const unit = code / meta.series_levels;
    if (accuracy) return unit;
    const [low, high] = meta.log_range;
    return Math.pow(10, low + unit * (high - low));
  }
  function seriesOf(run, cell) {
    const R = cell.steps.length, L = cell.layers, start = field(run, "series");
    const take = (k, accuracy) => Array.from(series.subarray(start + k * R, start + (k + 1) * R), (c) => decode(c, accuracy));
    const out = {};
    meta.curves.forEach((name, k) => { out[name] = take(k, name.endsWith("accuracy")); });
    out.weight = [], out.grad = [];
    for (let l = 0; l < L; l++) { out.weight.push(take(4 + l, false)); out.grad.push(take(4 + L + l, false)); }
    return out;
  }
  function frameOf(run, cell, k) {
    const start = field(run, "frames"), P = meta.grid_points * meta.grid_points;
    return start < 0 ? null : frames.subarray(start + k * P, start + (k + 1) * P);
  }

  // ---- state: controls <-> URL hash
  function readControls() {
    const s = {compare: $("explorer-compare").checked, b: {}};
    for (const key of Object.keys(HASH_KEYS)) s[key] = $(`explorer-${key}`).value;
    for (const key of FACTORS) s.b[key] = $(`explorer-b-${key}`).value;
    return s;
  }
  function toHash(s) {
    const parts = Object.entries(HASH_KEYS).map(([key, short]) => `${short}=${encodeURIComponent(s[key])}`);
    if (s.compare) parts.push("vs=" + FACTORS.map((f) => encodeURIComponent(s.b[f])).join(","));
    return "#" + parts.join("&");
  }
  function fromHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    const set = (id, value) => {
      const select = $(id);
      if (value !== null && Array.from(select.options).some((o) => o.value === value)) select.value = value;
    };
    for (const [key, short] of Object.entries(HASH_KEYS)) set(`explorer-${key}`, params.get(short));
    const vs = params.get("vs");
    $("explorer-compare").checked = vs !== null;
    if (vs !== null) vs.split(",").forEach((v, k) => set(`explorer-b-${FACTORS[k]}`, v));
  }
  function onControl() {
    const hash = toHash(readControls());
    if (hash !== location.hash) location.hash = hash;  // the hashchange event redraws
    else render();
  }

  // ---- drawing
  function colour(code) {
    if (code === meta.probability_missing) return MISSING_RGB;
    const p = code / meta.probability_levels;
    const [a, b, t] = p < 0.5 ? [LOW, MID, p * 2] : [MID, HIGH, (p - 0.5) * 2];
    return a.map((v, i) => Math.round(v + (b[i] - v) * t));
  }
  function meanFrame(list) {
    const P = list[0].length, out = new Uint8Array(P);
    for (let i = 0; i < P; i++) {
      let sum = 0, n = 0;
      for (const f of list) if (f[i] !== meta.probability_missing) { sum += f[i]; n++; }
      out[i] = n ? Math.round(sum / n) : meta.probability_missing;
    }
    return out;
  }
  function drawBoundary(canvas, codes, grid) {
    const ctx = canvas.getContext("2d"), G = meta.grid_points, W = canvas.width, H = canvas.height;
    ctx.clearRect(0, 0, W, H);
    if (!codes) {
      ctx.fillStyle = "#555"; ctx.font = "13px sans-serif";
      // Inputs of more than two features, or run files written before snapshots were recorded.
      ctx.fillText("No decision boundary", 12, H / 2 - 8); ctx.fillText("recorded for this dataset.", 12, H / 2 + 10);
      return;
    }
    const small = document.createElement("canvas");
    small.width = G; small.height = G;
    const image = small.getContext("2d").createImageData(G, G);
    for (let k = 0; k < G * G; k++) {
      const row = G - 1 - Math.floor(k / G), pixel = (row * G + (k % G)) * 4;
      const [r, g, b] = colour(codes[k]);
      image.data.set([r, g, b, 255], pixel);
    }
    small.getContext("2d").putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(small, 0, 0, W, H);
    const [a0, a1] = grid.axes, [x1, x2, y] = grid.points;
    const span = (a, v) => ((v - a[0]) / (a[a.length - 1] - a[0]) * (G - 1) + 0.5) / G;
    for (let i = 0; i < y.length; i++) {
      ctx.beginPath();
      ctx.arc(span(a0, x1[i]) * W, H - span(a1, x2[i]) * H, 2.2, 0, 2 * Math.PI);
      ctx.fillStyle = y[i] === 1 ? TRAIN : DEV; ctx.strokeStyle = "#fff"; ctx.lineWidth = 0.6;
      ctx.fill(); ctx.stroke();
    }
  }
  function node(name, attrs, parent) {
    const el = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (parent) parent.appendChild(el);
    return el;
  }
  // lines: [{values, colour, dash, faint, name}]; steps: x values; marker: the current step.
  function chart(title, steps, lines, log, marker) {
    const W = 250, H = 140, left = 40, right = 8, top = 18, bottom = 22;
    const svg = node("svg", {viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-label": title});
    node("title", {}, svg).textContent = title;
    const f = (v) => (log ? Math.log10(v) : v);
    const all = lines.flatMap((l) => l.values.filter((v) => Number.isFinite(v) && (!log || v > 0)).map(f));
    let lo = log ? Math.min(...all) : 0, hi = log ? Math.max(...all) : 1;
    if (!all.length) { lo = 0; hi = 1; }
    if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
    const xMax = steps[steps.length - 1] || 1;
    const X = (s) => left + (s / xMax) * (W - left - right), Y = (v) => top + (1 - (f(v) - lo) / (hi - lo)) * (H - top - bottom);
    node("text", {x: left, y: 12, class: "explorer-chart-title"}, svg).textContent = title;
    const tick = (v) => (log ? Number(Math.pow(10, v).toPrecision(2)).toExponential(1).replace("e+0", "").replace("e-", "e−") : String(v));
    for (const [v, label] of [[lo, tick(lo)], [hi, tick(hi)]]) {
      const y = top + (1 - (v - lo) / (hi - lo)) * (H - top - bottom);
      node("line", {x1: left, x2: W - right, y1: y, y2: y, stroke: "#ddd"}, svg);
      node("text", {x: left - 3, y: y + 3, "text-anchor": "end", class: "explorer-tick"}, svg).textContent = label;
    }
    node("text", {x: W - right, y: H - 6, "text-anchor": "end", class: "explorer-tick"}, svg).textContent = `step ${xMax}`;
    for (const line of lines) {
      let d = "", pen = false;
      line.values.forEach((v, i) => {
        if (!Number.isFinite(v) || (log && v <= 0)) { pen = false; return; }
        d += `${pen ? "L" : "M"}${X(steps[i]).toFixed(1)},${Y(v).toFixed(1)}`; pen = true;
      });
      const attrs = {d: d || "M0,0", fill: "none", stroke: line.colour, "stroke-width": line.faint ? 1 : 1.6,
                     "data-name": line.name || ""};
      if (line.faint) attrs["stroke-opacity"] = 0.25;
      if (line.dash) attrs["stroke-dasharray"] = "4 3";
      node("path", attrs, svg);
    }
    if (marker !== null) node("line", {x1: X(marker), x2: X(marker), y1: top, y2: H - bottom, stroke: "#1a1a1a",
                                        "stroke-dasharray": "2 2", class: "explorer-marker"}, svg);
    return svg;
  }
  const fmt = (v, digits = 3) => (v === null || v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits));
  const mean = (xs) => { const v = xs.filter(Number.isFinite); return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN; };

  function drawPanel(panel, s, seed) {
    const cell = cellOf(s);
    if (!cell) {  // a cell the study did not train (a dataset skipped for missing files, say)
      $(`explorer-${panel}-title`).textContent = `${s.initializer} · ${s.regularizer} · ${s.optimizer} on ${s.dataset}: not trained`;
      return {nFrames: 0, step: 0};
    }
    const runs = runsOf(s, seed);
    const chosen = seed === "all" ? runs : runs.slice(0, 1);
    const others = runsOf(s, "all").filter((r) => !chosen.includes(r));
    $(`explorer-${panel}-title`).textContent = `${s.initializer} · ${s.regularizer} · ${s.optimizer} on ${s.dataset}` +
      (seed === "all" ? ", all seeds" : `, seed ${seed}`);
    const nFrames = cell.frames.length, k = Math.min(frame, Math.max(nFrames - 1, 0));
    const record = nFrames ? cell.frames[k] : cell.steps.length - 1, step = cell.steps[record];
    const codes = nFrames && chosen.length ? (chosen.length === 1 ? frameOf(chosen[0], cell, k)
      : meanFrame(chosen.map((r) => frameOf(r, cell, k)))) : null;
    const canvas = $(`explorer-${panel}-boundary`);
    drawBoundary(canvas, codes, meta.grids[s.dataset]);
    canvas.dataset.run = chosen.map((r) => meta.runs.indexOf(r)).join(",");
    canvas.dataset.frame = nFrames ? k : "";
    const curves = chosen.map((r) => seriesOf(r, cell)), faint = others.map((r) => seriesOf(r, cell));
    const lines = (name, colour, dash) => [
      ...faint.map((c) => ({values: c[name], colour, dash, faint: true})),
      ...curves.map((c) => ({values: c[name], colour, dash, name})),
    ];
    const charts = $(`explorer-${panel}-charts`);
    charts.replaceChildren(
      chart("Cost", cell.steps, [...lines("cost", TRAIN, false), ...lines("dev_cost", DEV, true)], true, step),
      chart("Accuracy", cell.steps, [...lines("train_accuracy", TRAIN, false), ...lines("dev_accuracy", DEV, true)], false, step),
      chart("Weight and gradient norms", cell.steps, curves.flatMap((c) => c.weight.flatMap((w, l) => [
        {values: w, colour: LAYERS[l % LAYERS.length], name: `weight_norm_${l + 1}`},
        {values: c.grad[l], colour: LAYERS[l % LAYERS.length], dash: true, name: `grad_norm_${l + 1}`}])), true, step),
    );
    const at = (name) => mean(curves.map((c) => c[name][record]));
    const boundaryShare = codes ? mean(Array.from(codes).filter((c) => c !== meta.probability_missing).map((c) => (c > meta.probability_levels / 2 ? 1 : 0))) : NaN;
    $(`explorer-${panel}-alt`).textContent = `Step ${step} of ${cell.steps[cell.steps.length - 1]}` +
      `${seed === "all" ? " (mean over seeds)" : ""}: training cost ${fmt(at("cost"))}, training accuracy ` +
      `${fmt(at("train_accuracy"))}, dev accuracy ${fmt(at("dev_accuracy"))}` +
      (codes ? `; the network predicts class 1 on ${fmt(100 * boundaryShare, 0)}% of the plane.` : ".");
    const rank = meta.ranks[`${s.dataset}|${s.initializer}|${s.regularizer}|${s.optimizer}`];
    const value = (name) => mean(chosen.map((r) => field(r, name)));
    // The label (converged, stalled at chance, diverged), and how training ended when not at its last step.
    const statuses = chosen.map((r) => field(r, "label") + (field(r, "status") === "stopped_early" ? " (stopped early)" : ""));
    const settings = (factor) => Object.entries(meta.settings[factor][s[factor]] || {})
      .map(([k, v]) => `${k} ${v}`).join(", ");
    const rows = [
      ["status", "Status", seed === "all" ? Object.entries(statuses.reduce((m, x) => ({...m, [x]: (m[x] || 0) + 1}), {}))
        .map(([x, n]) => `${n} ${x}`).join(", ") : statuses[0] || "–"],
      ["train_accuracy", "Final train accuracy", fmt(value("train_accuracy"))],
      ["dev_accuracy", "Final dev accuracy", fmt(value("dev_accuracy"))],
      ["test_accuracy", "Final test accuracy", fmt(value("test_accuracy"))],
      ["learning_rate", "Learning rate", chosen.length ? String(field(chosen[0], "learning_rate")) : "–"],
      ["settings", "Settings", [`${s.regularizer}: ${settings("regularizer") || "nothing to set"}`,
                                `${s.optimizer}: ${settings("optimizer")}`].join("; ")],
      ["rank", `Rank on ${s.dataset} (mean score over seeds)`, rank ? `${rank[0]} of ${rank[1]}` : "–"],
    ];
    $(`explorer-${panel}-numbers`).tBodies[0].replaceChildren(...rows.map(([key, label, text]) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th"), td = document.createElement("td");
      th.scope = "row"; th.textContent = label; td.textContent = text; td.dataset.field = key;
      tr.append(th, td);
      return tr;
    }));
    return {nFrames, step};
  }

  function drawDifference(s) {
    const box = $("explorer-difference");
    box.hidden = !s.compare;
    if (!s.compare) return;
    const a = runsOf(s, "all"), b = runsOf({...s, ...s.b}, "all");
    const seedOf = (r) => field(r, "seed"), scoreB = new Map(b.map((r) => [seedOf(r), field(r, "score")]));
    const d = a.filter((r) => scoreB.has(seedOf(r))).map((r) => field(r, "score") - scoreB.get(seedOf(r)));
    const n = d.length, m = mean(d);
    const sd = n > 1 ? Math.sqrt(d.reduce((acc, x) => acc + (x - m) ** 2, 0) / (n - 1)) : NaN;
    const half = n > 1 ? meta.t975[n - 1] * sd / Math.sqrt(n) : NaN;
    const nameA = FACTORS.map((f) => s[f]).join(" · "), nameB = FACTORS.map((f) => s.b[f]).join(" · ");
    let html = `<p><b>Paired difference A − B</b> (${nameA} − ${nameB} on ${s.dataset}): mean test score ` +
      `<span data-field="cell-estimate">${fmt(m)}</span> over ${n} seed${n === 1 ? "" : "s"}, 95% Student-t interval ` +
      `<span data-field="cell-interval">[${fmt(m - half)}, ${fmt(m + half)}]</span> (a diverged run scores the test chance rate).</p>`;
    const differing = FACTORS.filter((f) => s[f] !== s.b[f]);
    if (differing.length === 1) {
      const f = differing[0];
      const row = meta.comparisons.find((c) => c[0] === f && c[3] === s.dataset &&
        ((c[1] === s[f] && c[2] === s.b[f]) || (c[1] === s.b[f] && c[2] === s[f])));
      if (row) {
        const flip = row[1] !== s[f], sign = flip ? -1 : 1;
        const [est, lo, hi] = [row[4], row[5], row[6]].map((v) => (v === null ? NaN : sign * v));
        const verdict = row[7] === "a better" ? `${row[1]} better` : row[7] === "b better" ? `${row[2]} better` : row[7];
        html += `<p><b>The study's comparison</b> of ${f} ${s[f]} − ${s.b[f]} on ${s.dataset} (table verdict_details, ` +
          `scope dataset=${s.dataset}: ${row[8]} seeds, each averaged over the other factors' levels): ` +
          `<span data-field="study-estimate">${fmt(est)}</span>, 95% interval <span data-field="study-interval">` +
          `[${fmt(Math.min(lo, hi))}, ${fmt(Math.max(lo, hi))}]</span>, verdict <span data-field="study-verdict">${verdict}</span>.</p>`;
      }
    } else if (differing.length > 1) {
      html += `<p>The two combinations differ in ${differing.join(" and ")}: the study's tables compare one factor at a time.</p>`;
    }
    box.innerHTML = html;
  }

  function render() {
    const s = readControls();
    document.querySelectorAll(".explorer-b").forEach((el) => { el.hidden = !s.compare; });
    $("explorer-panel-b").hidden = !s.compare;
    const a = drawPanel("a", s, s.seed);
    let nFrames = a.nFrames;
    if (s.compare) nFrames = Math.min(nFrames, drawPanel("b", {...s, ...s.b}, s.seed).nFrames);
    drawDifference(s);
    const slider = $("explorer-frame");
    slider.max = Math.max(nFrames - 1, 0);
    slider.value = Math.min(frame, slider.max);
    slider.disabled = $("explorer-play").disabled = nFrames < 2;
    slider.setAttribute("aria-valuetext", `step ${a.step}`);
    $("explorer-step").textContent = `step ${a.step}` + (nFrames ? ` (frame ${Number(slider.value) + 1} of ${nFrames})` : "");
  }

  function play(on) {
    const button = $("explorer-play");
    if (timer) { clearInterval(timer); timer = null; }
    button.setAttribute("aria-pressed", String(on));
    button.textContent = on ? "Pause" : "Play";
    if (!on) return;
    timer = setInterval(() => {
      const slider = $("explorer-frame");
      frame = Number(slider.value) >= Number(slider.max) ? 0 : Number(slider.value) + 1;
      render();
    }, 500);
  }

  function fill(id, values) {
    $(id).replaceChildren(...values.map((v) => new Option(String(v), String(v))));
  }

  const ready = (async () => {
    [meta, series, frames] = await Promise.all([inflate("explorer-meta"), inflate("explorer-series"), inflate("explorer-frames")]);
    meta = JSON.parse(new TextDecoder().decode(meta));
    series = new Uint16Array(series.buffer, series.byteOffset, series.byteLength / 2);
    meta.cells.forEach((c, k) => cellIndex.set(`${c.dataset}|${c.optimizer}|${c.regularizer}`, k));
    meta.runs.forEach((r, k) => runIndex.set(`${field(r, "cell")}|${field(r, "initializer")}|${field(r, "seed")}`, k));
    meta.runs.forEach((r) => { r[meta.fields.indexOf("seed")] = meta.levels.seed[field(r, "seed")]; });
    const present = new Set(meta.cells.map((c) => c.dataset));
    fill("explorer-dataset", meta.levels.dataset.filter((d) => present.has(d)));
    for (const f of FACTORS) { fill(`explorer-${f}`, meta.levels[f]); fill(`explorer-b-${f}`, meta.levels[f]); }
    fill("explorer-seed", [...meta.levels.seed, "all"]);
    $("explorer-b-initializer").value = meta.levels.initializer[meta.levels.initializer.length > 1 ? 1 : 0];
    for (const f of ["regularizer", "optimizer"]) $(`explorer-b-${f}`).value = meta.levels[f][0];
    fromHash();
    document.querySelectorAll("#explorer-controls select, #explorer-compare").forEach((el) => el.addEventListener("change", onControl));
    $("explorer-frame").addEventListener("input", (e) => { frame = Number(e.target.value); render(); });
    $("explorer-play").addEventListener("click", () => play(!timer));
    window.addEventListener("hashchange", () => { fromHash(); render(); });
    render();
  })();
  // For readers' consoles and the browser test: the decoded data and the current view.
  window.nnstudyExplorer = {
    ready,
    state: readControls,
    run: (panel) => ($(`explorer-${panel}-boundary`).dataset.run || "").split(",").filter(Boolean).map((k) => meta.runs[Number(k)]),
    frameCodes: (panel) => {
      const canvas = $(`explorer-${panel}-boundary`), k = canvas.dataset.run.split(",")[0];
      if (canvas.dataset.frame === "" || k === undefined) return null;
      const run = meta.runs[Number(k)];
      return Array.from(frameOf(run, meta.cells[field(run, "cell")], Number(canvas.dataset.frame)));
    },
    meta: () => meta,
  };
})();

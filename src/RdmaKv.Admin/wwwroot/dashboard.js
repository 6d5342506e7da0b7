// RdmaKv node dashboard: polls api/dashboard and draws small canvas charts. No libraries.
// Each chart canvas carries data-draws (how often it was drawn) and data-latest (the newest
// values it shows) and data-time-labels (its time axis), so a test or an operator's script can
// see what the chart shows.
"use strict";
(() => {
  const palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];
  const state = { samples: [], since: 0, intervalMs: 1000, history: 300, partitions: [], errors: [], node: null };
  const $ = (id) => document.getElementById(id);

  function fmt(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    const a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(2) + "G";
    if (a >= 1e6) return (v / 1e6).toFixed(2) + "M";
    if (a >= 1e4) return (v / 1e3).toFixed(1) + "k";
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1);
    return v.toFixed(2).replace(/\.?0+$/, "") || "0";
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function prepare(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(canvas.clientWidth, 50), h = Math.max(canvas.clientHeight, 50);
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = "11px system-ui, sans-serif";
    return { ctx, w, h };
  }

  function marked(canvas, latest) {
    canvas.dataset.draws = String((Number(canvas.dataset.draws) || 0) + 1);
    canvas.dataset.latest = JSON.stringify(latest);
  }

  // The time axis: the whole history once it is full, else from the first point (at least a minute).
  function timeSpan(now) {
    const full = state.history * state.intervalMs;
    const first = state.samples.length ? state.samples[0].time : now;
    return Math.min(full, Math.max(60000, now - first + state.intervalMs));
  }

  // The time axis' ticks, back from now: a round step with at most five steps over the span, and
  // every label in one unit (seconds, or minutes when the step is whole minutes).
  function timeTicks(spanMs) {
    const steps = [5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];
    const spanS = spanMs / 1000;
    const step = steps.find((s) => spanS / s <= 5) ?? Math.ceil(spanS / 5 / 3600) * 3600;
    const minutes = step % 60 === 0;
    const ticks = [];
    for (let ago = 0; ago <= spanS + 0.001; ago += step) {
      ticks.push({ agoMs: ago * 1000, label: ago === 0 ? "now" : minutes ? `-${ago / 60}m` : `-${ago}s` });
    }
    return ticks;
  }

  // series: [{ name, color, points: [[timeMs, value|null], ...], percent, unit }]; a percent series
  // is drawn against a 0-100% axis on the right. log: a log10 value axis (latencies: a slow
  // outlier must not flatten the microseconds).
  function lineChart(canvas, legend, series, unit, log) {
    const { ctx, w, h } = prepare(canvas);
    const percent = series.some((s) => s.percent);
    const left = 44, right = percent ? 36 : 8, top = 8, bottom = 18;
    const now = Date.now();
    const span = timeSpan(now);
    const t0 = now - span;
    let max = 0, min = Infinity;
    for (const s of series) if (!s.percent) for (const [, v] of s.points) if (v !== null && v > 0) { max = Math.max(max, v); min = Math.min(min, v); }
    let valueTicks, yValue;
    const plotH = h - top - bottom;
    if (log) {
      const lo = Math.floor(Math.log10(min === Infinity ? 1 : min));
      const hi = Math.max(lo + 1, Math.ceil(Math.log10(max > 0 ? max : 10)));
      valueTicks = [];
      for (let e = lo; e <= hi; e++) valueTicks.push(Math.pow(10, e));
      yValue = (v) => top + (1 - (Math.log10(Math.max(v, valueTicks[0])) - lo) / (hi - lo)) * plotH;
    } else {
      max = niceMax(max);
      valueTicks = [0, max / 4, max / 2, (3 * max) / 4, max];
      yValue = (v) => top + (1 - v / max) * plotH;
    }
    const x = (t) => left + ((t - t0) / span) * (w - left - right);
    ctx.strokeStyle = "#e4e7ec";
    ctx.fillStyle = "#667085";
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const v of valueTicks) {
      const yy = Math.round(yValue(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(left, yy); ctx.lineTo(w - right, yy); ctx.stroke();
      ctx.fillText(fmt(v), left - 4, yy);
    }
    const yPercent = (v) => top + (1 - v / 100) * plotH;
    if (percent) {
      ctx.textAlign = "left";
      for (const v of [0, 50, 100]) ctx.fillText(`${v}%`, w - right + 4, Math.round(yPercent(v)) + 0.5);
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "alphabetic";
    const ticks = timeTicks(span);
    for (const tick of ticks) {
      ctx.fillText(tick.label, Math.min(Math.max(x(now - tick.agoMs), left + 10), w - right - 12), h - 4);
    }
    canvas.dataset.timeLabels = JSON.stringify(ticks.map((tick) => tick.label).reverse());
    const latest = {};
    for (const s of series) {
      const y = s.percent ? yPercent : yValue;
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 1.8;
      ctx.beginPath();
      let pen = false;
      for (const [t, v] of s.points) {
        if (t < t0 || v === null) { pen = false; continue; }
        if (pen) ctx.lineTo(x(t), y(v)); else ctx.moveTo(x(t), y(v));
        pen = true;
      }
      ctx.stroke();
      const last = s.points.length ? s.points[s.points.length - 1][1] : null;
      latest[s.name] = last;
    }
    if (legend) {
      legend.replaceChildren(...series.map((s) => {
        const span = document.createElement("span");
        const dot = document.createElement("i");
        dot.style.background = s.color;
        span.append(dot, `${s.name} ${fmt(latest[s.name])}${s.unit ?? unit}`);
        return span;
      }));
    }
    marked(canvas, latest);
  }

  function partitionChart(canvas, legend, partitions) {
    canvas.style.height = `${Math.max(60, Math.min(400, partitions.length * 28 + 8))}px`;
    const { ctx, w, h } = prepare(canvas);
    const left = 64, right = 44, top = 6;
    const rowH = Math.min(28, (h - top) / Math.max(partitions.length, 1));
    const barH = Math.max(4, rowH / 2 - 3);
    const bars = [["index", "#2563eb", (p) => p.loadFactor], ["extents", "#16a34a", (p) => p.extents.use]];
    ctx.textBaseline = "middle";
    const latest = {};
    partitions.forEach((p, i) => {
      const y0 = top + i * rowH;
      ctx.fillStyle = "#1d2430";
      ctx.textAlign = "left";
      ctx.fillText(`p${p.partition} g${p.generation}`, 0, y0 + rowH / 2);
      bars.forEach(([name, color, value], k) => {
        const v = Math.max(0, Math.min(1, value(p)));
        const yy = y0 + k * (barH + 2) + 1;
        ctx.fillStyle = "#eef0f3";
        ctx.fillRect(left, yy, w - left - right, barH);
        ctx.fillStyle = color;
        ctx.fillRect(left, yy, (w - left - right) * v, barH);
        ctx.fillStyle = "#667085";
        ctx.textAlign = "left";
        ctx.fillText(`${Math.round(v * 100)}%`, w - right + 4, yy + barH / 2);
      });
      // The index grows at 85% load: mark it.
      const gx = left + (w - left - right) * 0.85;
      ctx.strokeStyle = "#dc2626";
      ctx.beginPath(); ctx.moveTo(gx + 0.5, y0 + 1); ctx.lineTo(gx + 0.5, y0 + barH + 1); ctx.stroke();
      latest[`p${p.partition}`] = { keys: p.keys, loadFactor: p.loadFactor, extentUse: p.extents.use };
    });
    if (legend) {
      const keys = partitions.reduce((a, p) => a + p.keys, 0);
      legend.replaceChildren(...bars.map(([name, color]) => {
        const span = document.createElement("span");
        const dot = document.createElement("i");
        dot.style.background = color;
        span.append(dot, name === "index" ? "index entries used (grows at 85%)" : "extent area used");
        return span;
      }), `${fmt(keys)} keys`);
    }
    marked(canvas, latest);
  }

  function series(name, color, pick, extra) {
    return { name, color, points: state.samples.map((s, i) => [s.time, pick(s, i)]), ...extra };
  }

  // Clients report their one-sided reads about once a second, so one interval may hold no report
  // or two: client-reported figures are averaged over the samples of the last few seconds.
  const reportWindowMs = 3000;
  function windowSum(i, k) {
    let seconds = 0, count = 0;
    for (let j = i; j >= 0 && seconds * 1000 < reportWindowMs; j--) {
      const s = state.samples[j];
      seconds += s.seconds;
      count += (s.rates[k] ?? 0) * s.seconds;
    }
    return { seconds, count };
  }
  const reported = (k) => (s, i) => { const w = windowSum(i, k); return w.seconds > 0 ? w.count / w.seconds : 0; };
  const hitRate = (s, i) => {
    const lookups = windowSum(i, "client_lookups").count;
    return lookups > 0 ? (100 * windowSum(i, "client_cache_hits").count) / lookups : null;
  };

  function draw() {
    const rate = (k) => (s) => s.rates[k] ?? 0;
    lineChart($("ops-chart"), $("ops-legend"), [
      series("puts", palette[0], rate("puts")),
      series("one-sided gets", palette[5], reported("client_one_sided_gets")),
      series("deletes", palette[1], rate("deletes")),
      series("fallback gets", palette[2], rate("fallback_gets")),
      series("multi-puts", palette[3], rate("multi_puts")),
      series("admin", palette[4], (s) => (s.rates.admin_gets ?? 0) + (s.rates.admin_puts ?? 0) + (s.rates.admin_deletes ?? 0)),
    ], "/s");
    lineChart($("reads-chart"), $("reads-legend"), [
      series("one-sided gets", palette[5], reported("client_one_sided_gets")),
      series("retries", palette[4], reported("client_retries")),
      series("fallbacks", palette[1], reported("client_fallbacks")),
      series("cache hits", palette[2], hitRate, { percent: true, unit: "%" }),
    ], "/s");
    const lat = (op, p) => (s) => (s.latency[op] ? s.latency[op][p] ?? null : null);
    lineChart($("latency-chart"), $("latency-legend"), [
      series("put p50", palette[0], lat("put", "p50Us")),
      series("put p99", palette[1], lat("put", "p99Us")),
      series("delete p99", palette[3], lat("delete", "p99Us")),
      series("get p99", palette[2], lat("fallback_get", "p99Us")),
    ], " µs", true);
    lineChart($("clients-chart"), null, [series("clients", palette[5], (s) => s.clientsConnected)], "");
    partitionChart($("partitions-chart"), $("partitions-legend"), state.partitions);
    drawTiles();
    drawErrors();
  }

  function drawTiles() {
    const last = state.samples[state.samples.length - 1];
    $("tile-puts").textContent = last ? fmt(last.rates.puts ?? 0) : "–";
    const i = state.samples.length - 1;
    $("tile-gets").textContent = last ? fmt(reported("client_one_sided_gets")(last, i) + (last.rates.fallback_gets ?? 0)) : "–";
    const p99 = last && last.latency.put ? last.latency.put.p99Us : null;
    $("tile-p99").textContent = p99 === null ? "–" : `${fmt(p99)} µs`;
    $("tile-keys").textContent = last ? fmt(last.keys) : "–";
    $("tile-clients").textContent = last ? String(last.clientsConnected) : "–";
    $("tile-errors").textContent = fmt(state.samples.reduce((a, s) => a + s.errors, 0));
  }

  function drawErrors() {
    const list = $("errors");
    if (state.errors.length === 0) {
      const none = document.createElement("li");
      none.className = "none";
      none.textContent = "none";
      list.replaceChildren(none);
      return;
    }
    list.replaceChildren(...state.errors.slice().reverse().map((e) => {
      const li = document.createElement("li");
      const time = document.createElement("time");
      time.dateTime = e.time;
      time.textContent = new Date(e.time).toLocaleTimeString();
      li.append(time, `${e.source}: ${e.message}`);
      return li;
    }));
  }

  function drawNode(node) {
    $("node-name").textContent = node.name;
    document.title = `RdmaKv ${node.name}`;
    const ready = $("ready");
    ready.textContent = node.ready ? "ready" : "not ready";
    ready.className = "badge " + (node.ready ? "ok" : "bad");
    ready.title = node.readiness.map((c) => `${c.name}: ${c.detail}`).join("\n");
    const up = node.uptimeSeconds;
    const upText = up >= 86400 ? `${(up / 86400).toFixed(1)} d` : up >= 3600 ? `${(up / 3600).toFixed(1)} h` : up >= 60 ? `${Math.floor(up / 60)} min` : `${Math.floor(up)} s`;
    $("meta").textContent = `v${node.version} · ${node.partitions} partitions · up ${upText}`;
  }

  async function refresh() {
    try {
      const response = await fetch(`api/dashboard?since=${state.since}`, { cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const data = await response.json();
      state.intervalMs = data.intervalMs;
      state.node = data.node;
      state.partitions = data.partitions;
      state.errors = data.errors;
      for (const s of data.samples) state.samples.push(s);
      if (state.samples.length) state.since = state.samples[state.samples.length - 1].time;
      const cutoff = Date.now() - state.history * state.intervalMs;
      while (state.samples.length && state.samples[0].time < cutoff) state.samples.shift();
      $("offline").hidden = true;
      drawNode(data.node);
      draw();
    } catch (e) {
      $("offline").hidden = false;
      $("offline").textContent = `The node does not answer (${e.message}); retrying.`;
    } finally {
      setTimeout(refresh, Math.max(250, state.intervalMs));
    }
  }

  // A cluster member shows every node, as this node's admin plane sees them. A node on its own
  // has no owners in /api/cluster and is not asked again.
  let inCluster = null;
  async function refreshCluster() {
    let again = true;
    try {
      if (inCluster === null) {
        const map = await fetch("api/cluster", { cache: "no-store" });
        if (!map.ok) throw new Error(`HTTP ${map.status}`);
        inCluster = "owners" in (await map.json());
      }
      if (!inCluster) { again = false; return; }
      const response = await fetch("api/cluster/nodes", { cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const data = await response.json();
      $("cluster").hidden = false;
      const short = data.slotsShortOfReplicas > 0 ? ` (${data.slotsShortOfReplicas} have fewer until re-replication copies them)` : "";
      $("cluster-epoch").textContent = `epoch ${data.epoch} · ${data.slotCount} slots` + (data.replicas > 1 ? ` · ${data.replicas} copies each${short}` : "");
      $("cluster-nodes").replaceChildren(...data.nodes.map((n) => {
        const tr = document.createElement("tr");
        tr.dataset.node = n.id;
        const cell = (text) => { const td = document.createElement("td"); td.textContent = text; return td; };
        const link = document.createElement("td");
        if (n.admin && !n.self && /^https?:\/\//i.test(n.admin)) {
          const a = document.createElement("a");
          a.href = n.admin;
          a.textContent = "open";
          link.append(a);
        } else link.textContent = n.self ? "this one" : "–";
        // Down when its lease expired (as this node sees etcd) or its admin plane did not answer.
        const up = n.up && n.lease !== "expired";
        const stateCell = cell(up ? "up" : "down");
        stateCell.className = up ? "ok" : "bad";
        stateCell.title = n.error || (n.lease === "expired" ? "its etcd lease expired" : "");
        const servingCell = cell(n.serving == null ? "–" : n.serving ? "yes" : "no");
        if (n.serving === false) { servingCell.className = "bad"; servingCell.title = n.notServing || ""; }
        const lagText = { synchronous: "0 (sync)", primary: "0 (primary)", "no copy": "no copy" };
        const lagCell = cell(n.lag == null ? "–" : lagText[n.lag] || n.lag);
        if (n.replicaWrites != null) lagCell.title = `${n.replicaWrites} writes applied as a backup, ${n.replicaFailures} client writes it could not replicate`;
        tr.append(cell(n.id + (n.self ? " (this node)" : "")), stateCell, cell(String(n.slots)), cell(String(n.backs)),
          cell(n.lease || "–"), servingCell, lagCell,
          cell(n.keys == null ? "–" : String(n.keys)), cell(n.puts == null ? "–" : String(n.puts)),
          cell(n.opsPerSecond == null ? "–" : fmt(n.opsPerSecond)), cell(n.putP99Us == null ? "–" : `${fmt(n.putP99Us)} µs`), cell(n.ucx), link);
        return tr;
      }));
    } catch (e) {
      $("cluster-epoch").textContent = `(the cluster view failed: ${e.message})`;
    } finally {
      if (again) setTimeout(refreshCluster, 2000);
    }
  }

  // For tests and scripts: the time axis' labels for a span, without waiting for one.
  window.rdmakvDashboard = { timeLabels: (spanMs) => timeTicks(spanMs).map((tick) => tick.label).reverse() };
  window.addEventListener("resize", () => { if (state.node) draw(); });
  refresh();
  refreshCluster();
})();

// The dashboard polls this replica's admin API once a second; nothing is fetched from elsewhere.
"use strict";

const WINDOW_SECONDS = 300;
const samples = []; // {t, logSize, p50, p99}

function text(id, value) {
  document.getElementById(id).textContent = value;
}

function row(cells, cls) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = document.createElement("td");
    td.textContent = c === null || c === undefined ? "-" : String(c);
    tr.appendChild(td);
  }
  if (cls) tr.className = cls;
  return tr;
}

function fill(tableId, rows) {
  const body = document.querySelector("#" + tableId + " tbody");
  body.replaceChildren(...rows);
}

function time(ms) {
  return new Date(ms).toLocaleTimeString();
}

// A line chart of one or two series over the sample window, drawn as SVG by hand.
function chart(svgId, series, colors) {
  const svg = document.getElementById(svgId);
  const w = svg.width.baseVal.value, h = svg.height.baseVal.value, pad = 30;
  const points = series.flat().filter(p => p.y !== null && Number.isFinite(p.y));
  const now = Date.now() / 1000;
  const maxY = Math.max(1, ...points.map(p => p.y));
  const x = t => pad + (w - pad - 5) * (1 - (now - t) / WINDOW_SECONDS);
  const y = v => h - pad / 2 - (h - pad) * v / maxY;
  let out = `<line x1="${pad}" y1="${y(0)}" x2="${w - 5}" y2="${y(0)}" stroke="#ccc"/>`
    + `<text x="2" y="${y(maxY) + 4}" font-size="10">${Math.round(maxY)}</text>`
    + `<text x="2" y="${y(0)}" font-size="10">0</text>`;
  series.forEach((s, i) => {
    const d = s.filter(p => p.y !== null && Number.isFinite(p.y))
      .map((p, j) => (j ? "L" : "M") + x(p.t).toFixed(1) + "," + y(p.y).toFixed(1)).join("");
    if (d) out += `<path d="${d}" fill="none" stroke="${colors[i]}" stroke-width="1.5"/>`;
  });
  svg.innerHTML = out;
}

async function getJson(path) {
  const r = await fetch(path, {cache: "no-store"});
  return r.json();
}

async function refresh() {
  try {
    const [cluster, leadership] = await Promise.all([getJson("/cluster"), getJson("/leadership")]);
    const replicas = cluster.replicas;
    text("me", cluster.askedBy);
    const leader = replicas.find(r => r.role === "LEADER");
    text("leader", leader ? leader.id : "none");
    const cl = replicas.find(r => r.cluster);
    text("cluster", cl ? cl.cluster : "");
    const top = Math.max(...replicas.map(r => r.appliedIndex ?? -1));
    fill("replicas", replicas.map(r => row([
      r.id, r.role, r.term, r.appliedBatch, r.appliedIndex,
      r.appliedIndex === undefined ? null : top - r.appliedIndex,
      r.stateDigest ? r.stateDigest.slice(0, 16) : r.error], r.role)));

    const source = leader || replicas.find(r => r.latestHead);
    if (source && source.latestHead) {
      const stats = await getJson("/stats").catch(() => null);
      samples.push({t: cluster.timeMs / 1000, logSize: source.latestHead.logSize,
        p50: stats && stats.latencyP50Us !== null ? stats.latencyP50Us / 1000 : null,
        p99: stats && stats.latencyP99Us !== null ? stats.latencyP99Us / 1000 : null});
      const last = source.latestHead.batchNumber;
      const page = await getJson("/heads?from=" + Math.max(0, last - 19) + "&limit=20");
      const heads = page.heads;
      const rows = [];
      for (let i = heads.length - 1; i >= 0; i--) {
        const prev = i > 0 ? heads[i - 1].logSize : null;
        rows.push(row([heads[i].batchNumber, prev === null ? "" : heads[i].logSize - prev, time(heads[i].timeMs),
          heads[i].signature.slice(0, 16)]));
      }
      fill("batches", rows);
    }
    const cutoff = Date.now() / 1000 - WINDOW_SECONDS;
    while (samples.length && samples[0].t < cutoff) samples.shift();
    const rate = [];
    for (let i = 1; i < samples.length; i++) {
      const dt = samples[i].t - samples[i - 1].t;
      rate.push({t: samples[i].t, y: dt > 0 ? (samples[i].logSize - samples[i - 1].logSize) / dt : null});
    }
    chart("throughput", [rate], ["#2563eb"]);
    chart("latency", [samples.map(s => ({t: s.t, y: s.p50})), samples.map(s => ({t: s.t, y: s.p99}))],
      ["#16a34a", "#dc2626"]);
    fill("changes", leadership.changes.slice().reverse().map(c => row([time(c.timeMs), c.leader])));
    text("updated", new Date().toLocaleTimeString());
  } catch (e) {
    text("updated", "failed: " + e);
  }
}

refresh();
setInterval(refresh, 1000);

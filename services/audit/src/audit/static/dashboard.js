// The audit dashboard: draws the per-minute charts from the data the server
// rendered into the page, then refreshes figures, charts, alerts and recent
// events from the JSON API. No inline script (the page's CSP forbids it) and
// no HTML built from data: every value goes in through textContent.
(function () {
  "use strict";

  const body = document.body;
  const refreshMs = Number(body.dataset.refreshMs) || 10000;
  const jaeger = body.dataset.jaeger || "";
  const initial = JSON.parse(document.getElementById("dashboard-data").textContent);
  const charts = new Map();

  // Formats mirror the server's (audit/http/dashboard.py): half-up rounding.
  const formats = {
    percent: (v) => (v === null ? "–" : (Math.round(v * 1000) / 10).toFixed(1) + "%"),
    milliseconds: (v) => (v === null ? "–" : Math.round(v) + " ms"),
    number: (v) => (v === null ? "–" : String(v)),
  };

  function clock(iso) {
    if (!iso) return "–";
    const d = new Date(iso);
    const pad = (n) => String(n).padStart(2, "0");
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) +
      " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
  }

  function minuteLabel(iso) {
    return clock(iso).slice(11, 16);
  }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function drawChart(chart) {
    const canvas = document.getElementById("chart-" + chart.id);
    const labels = chart.datasets[0].points.map((p) => minuteLabel(p.bucket_start));
    const datasets = chart.datasets.map((d) => ({
      label: d.label,
      data: d.points.map((p) => p.count),
      backgroundColor: d.color,
      borderColor: d.color,
      borderWidth: 1,
    }));
    const existing = charts.get(chart.id);
    if (existing) {
      existing.data.labels = labels;
      existing.data.datasets.forEach((ds, i) => { ds.data = datasets[i].data; });
      existing.update("none");
      return;
    }
    charts.set(chart.id, new window.Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          x: { stacked: true, ticks: { maxTicksLimit: 12 } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
        },
        plugins: { legend: { display: chart.datasets.length > 1 } },
      },
    }));
  }

  function showSummary(summary) {
    document.querySelectorAll("[data-figure]").forEach((node) => {
      const value = summary[node.dataset.figure];
      node.textContent = formats[node.dataset.format](value === undefined ? null : value);
    });
    const asOf = document.getElementById("as-of");
    asOf.textContent = clock(summary.as_of);
    asOf.setAttribute("datetime", summary.as_of);
  }

  function showAlerts(alerts) {
    const list = document.getElementById("alert-list");
    list.replaceChildren();
    if (!alerts.length) {
      list.append(el("li", "No active alerts.", "none"));
      return;
    }
    alerts.forEach((a) => {
      const item = el("li", null, "alert " + a.severity);
      item.append(el("strong", a.rule));
      if (a.subject) item.append(" (" + a.subject + ")");
      item.append(" since ", el("time", clock(a.fired_at || a.started_at)), ": " + a.summary);
      list.append(item);
    });
  }

  function showEvents(events) {
    const tbody = document.querySelector("#events tbody");
    tbody.replaceChildren();
    if (!events.length) {
      const row = el("tr", null, "none");
      const cell = el("td", "No events yet.");
      cell.colSpan = 6;
      row.append(cell);
      tbody.append(row);
      return;
    }
    events.forEach((e) => {
      const row = el("tr");
      const time = el("time", clock(e.occurred_at));
      time.setAttribute("datetime", e.occurred_at);
      const when = el("td");
      when.append(time);
      const trace = el("td");
      if (e.trace_id) {
        const link = el("a", e.trace_id.slice(0, 12) + "…", "trace");
        link.href = jaeger + "/trace/" + e.trace_id;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        trace.append(link);
      } else {
        trace.textContent = "–";
      }
      row.append(
        when,
        el("td", e.event_type),
        el("td", e.success ? "success" : (e.reason || "failed"), e.success ? "ok" : "failed"),
        el("td", e.email || "–"),
        el("td", e.ip || "–"),
        trace,
      );
      tbody.append(row);
    });
  }

  async function getJson(path) {
    const response = await fetch(path, { headers: { accept: "application/json" } });
    if (!response.ok) throw new Error(path + " answered " + response.status);
    return response.json();
  }

  async function refresh() {
    const status = document.getElementById("refresh-status");
    try {
      const chartData = await Promise.all(initial.charts.map(async (chart) => ({
        id: chart.id,
        datasets: await Promise.all(chart.datasets.map(async (d) => ({
          label: d.label,
          color: d.color,
          points: await getJson("/v1/metrics/timeseries?bucket=1m&event_type=" +
            encodeURIComponent(d.event_type)),
        }))),
      })));
      const [summary, alerts, events] = await Promise.all([
        getJson("/v1/metrics/summary?window=1h"),
        getJson("/v1/alerts?state=active"),
        getJson("/v1/events?limit=25"),
      ]);
      chartData.forEach(drawChart);
      showSummary(summary);
      showAlerts(alerts);
      showEvents(events.items);
      status.textContent = "";
      body.dataset.refreshed = String(Number(body.dataset.refreshed || 0) + 1);
    } catch (error) {
      status.textContent = "· refresh failed (" + error.message + "), retrying";
    }
  }

  initial.charts.forEach(drawChart);
  body.dataset.drawn = "true";
  window.setInterval(refresh, refreshMs);
})();

"use strict";
// The deployment dashboard: one view, two data sources.
// - data-mode="http": polls GET <page>/data every few seconds with an optional bearer token
//   (pasted once, kept in sessionStorage for this tab only).
// - data-mode="app":  an MCP App in a host's sandboxed iframe; JSON-RPC over postMessage
//   (ui/initialize, tool-input / tool-result notifications, tools/call show_dashboard to refresh).
// Every value from the server is written with textContent or SVG attributes, never as HTML.
(function () {
  const MODE = document.documentElement.dataset.mode;
  const REFRESH_MS = 5000;
  const TOKEN_KEY = "nba-mcp-dashboard-token";
  const SVG_NS = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);

  // ---- small DOM helpers -------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }
  function setAttrs(node, attrs) {
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = String(value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  function append(node, children) {
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  const slug = (text) => String(text).replace(/[^A-Za-z0-9_-]/g, "_");

  // ---- formatting ----------------------------------------------------------------------------
  const pct = (v) => (v === null || v === undefined ? "n/a" : (v * 100).toFixed(v > 0 && v < 0.1 ? 1 : 0) + "%");
  const ms = (v) => (v === null || v === undefined ? "n/a" : v.toFixed(v < 10 ? 2 : 1) + " ms");
  const num = (v) => (v === null || v === undefined ? "n/a" : Number(v).toLocaleString("en-US"));
  const score = (v) => (v === null || v === undefined ? "n/a" : Number(v).toPrecision(3));
  const clock = (t) => (t ? new Date(t * 1000).toLocaleTimeString("en-GB") : "n/a");
  const STATE_TEXT = { closed: "closed", open: "open", half_open: "half-open" };
  const STATE_ICON = { closed: "●", open: "✕", half_open: "◐" };

  function breakerCell(breaker) {
    const cell = [el("span", { "aria-hidden": "true", text: STATE_ICON[breaker.state] + " " }), STATE_TEXT[breaker.state] || breaker.state];
    if (breaker.state === "open" && breaker.retry_at) {
      cell.push(el("span", { class: "sub", text: ` retry at ${clock(breaker.retry_at)} (in ${Math.ceil(breaker.retry_in_sec || 0)} s)` }));
    }
    return cell;
  }

  // ---- charts ----------------------------------------------------------------------------------
  function sparkline(points, key, cls, label) {
    const values = points.map((p) => p[key]).filter((v) => v !== null && v !== undefined);
    const width = 96, height = 22;
    const last = values.length ? values[values.length - 1] : null;
    const fmt = key === "error_rate" ? pct : ms;
    const description = values.length
      ? `${label}: ${values.length} points, last ${fmt(last)}, min ${fmt(Math.min(...values))}, max ${fmt(Math.max(...values))}`
      : `${label}: no data yet`;
    const chart = svg("svg", { class: "spark", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": description });
    chart.append(svg("title", { text: description }));
    if (values.length >= 2) {
      const top = Math.max(...values), bottom = Math.min(0, ...values);
      const span = top - bottom || 1;
      const xs = points.map((p) => p.at);
      const x0 = Math.min(...xs), xspan = Math.max(...xs) - x0 || 1;
      const coords = points
        .filter((p) => p[key] !== null && p[key] !== undefined)
        .map((p) => `${(((p.at - x0) / xspan) * (width - 4) + 2).toFixed(1)},${(height - 3 - ((p[key] - bottom) / span) * (height - 6)).toFixed(1)}`);
      chart.append(svg("polyline", { class: cls, points: coords.join(" ") }));
    } else {
      chart.append(svg("text", { x: 2, y: height - 9, "font-size": 10, fill: "currentColor", text: values.length ? fmt(last) : "–" }));
    }
    return chart;
  }

  function histogram(h) {
    const width = 300, height = 130, pad = 18;
    const n = h.reference.length;
    const top = Math.max(...h.reference, ...h.current, 1e-9);
    const barWidth = (width - 2 * pad) / Math.max(n, 1);
    const title = `${h.feature}: reference (blue) and current (orange) distributions; ${h.method} ${score(h.score)}, threshold ${h.threshold}`;
    const chart = svg("svg", { class: "hist", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
    chart.append(svg("title", { text: title }));
    for (const [series, cls] of [[h.reference, "ref"], [h.current, "cur"]]) {
      series.forEach((share, i) => {
        const barHeight = (share / top) * (height - 2 * pad);
        chart.append(svg("rect", { class: cls, x: (pad + i * barWidth).toFixed(2), y: (height - pad - barHeight).toFixed(2), width: Math.max(barWidth - 1, 1).toFixed(2), height: barHeight.toFixed(2) }));
      });
    }
    chart.append(svg("line", { class: "axis", x1: pad, y1: height - pad, x2: width - pad, y2: height - pad }));
    const first = h.kind === "numeric" ? score(h.edges[0]) : h.labels[0];
    const last = h.kind === "numeric" ? score(h.edges[h.edges.length - 1]) : h.labels[h.labels.length - 1];
    chart.append(svg("text", { x: pad, y: height - 4, text: first }));
    chart.append(svg("text", { x: width - pad, y: height - 4, "text-anchor": "end", text: last }));
    return chart;
  }

  function histogramTable(h) {
    const label = (i) => (h.kind === "numeric" ? `${score(h.edges[i])} – ${score(h.edges[i + 1])}` : h.labels[i]);
    return el("table", {},
      el("caption", { class: "muted", text: `Shares per bin (reference n=${num(h.reference_count)}, current n=${num(h.current_count)})` }),
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "bin" }), el("th", { scope: "col", text: "reference" }), el("th", { scope: "col", text: "current" }))),
      el("tbody", {}, h.reference.map((share, i) => el("tr", {}, el("td", { text: label(i) }), el("td", { class: "num", text: pct(share) }), el("td", { class: "num", text: pct(h.current[i]) })))));
  }

  // ---- sections --------------------------------------------------------------------------------
  function traffic(model) {
    const t = model.traffic;
    const section = el("section", { "aria-label": `Traffic of ${model.model_id}` }, el("h3", { text: trafficTitle(t) }));
    if (!t.shares.length) {
      section.append(el("p", { class: "empty", text: "No version takes traffic: deploy one or set an active version." }));
      return section;
    }
    const description = t.shares.map((s) => `${s.version} ${pct(s.weight)}, ${num(s.requests)} requests`).join("; ");
    const bar = el("div", { class: "bar", role: "img", "aria-label": `Traffic split: ${description}` });
    t.shares.forEach((s, i) => {
      const seg = el("div", { class: `seg c${i % 4}${s.breaker_state === "open" ? " open" : ""}`, "data-version": s.version, "data-weight": s.weight },
        el("b", { text: `${s.version} ${pct(s.weight)}` }), el("span", { text: `${num(s.requests)} req` }));
      seg.style.flex = `${Math.max(s.weight, 0.0001)} 1 0`;
      bar.append(seg);
    });
    section.append(bar);
    section.append(el("ul", { class: "legend" }, t.shares.map((s, i) =>
      el("li", {}, el("span", { class: `swatch c${i % 4}`, "aria-hidden": "true" }),
        `${s.version}: weight ${pct(s.weight)}, ${num(s.requests)} requests, ${num(s.errors)} errors, breaker ${STATE_TEXT[s.breaker_state] || s.breaker_state}`))));
    if (t.shadow_version) section.append(el("p", { class: "muted", text: `Shadow: ${t.shadow_version} mirrors ${pct(t.shadow_fraction)} of requests (answers never returned).` }));
    return section;
  }
  function trafficTitle(t) {
    return { ab: "Traffic: A/B split", canary: "Traffic: canary", single: "Traffic: all on the active version", none: "Traffic" }[t.mode] + (t.sticky ? " (sticky)" : "");
  }

  function canary(model) {
    const c = model.canary;
    if (!c) return null;
    return el("section", { "aria-label": `Canary of ${model.model_id}` },
      el("h3", { text: `Canary ${c.candidate_version} over ${c.stable_version}: ${c.phase.replace("_", " ")}` }),
      el("ol", { class: "steps", "aria-label": "Canary steps" }, c.steps.map((w, i) =>
        el("li", { class: i < c.step_index ? "done" : i === c.step_index ? "now" : "", "aria-current": i === c.step_index ? "step" : null, text: pct(w) }))),
      el("p", { class: "muted", text: `Step ${c.step_index + 1} of ${c.steps.length} at ${pct(c.weight)}: candidate ${num(c.candidate_requests)} requests, stable ${num(c.stable_requests)}. ${c.decision_reason}` }));
  }

  function versions(model) {
    const head = ["version", "role", "stage", "breaker", "requests", "errors", "p50 / p95", "trend"];
    const cell = (i, attrs, ...children) => el("td", { role: "cell", "data-label": head[i], ...attrs }, ...children);
    const rows = model.versions.map((v) => el("tr", { role: "row", "data-version": v.version },
      el("th", { scope: "row", role: "rowheader" }, v.version, v.active ? el("span", { class: "muted", text: " (active)" }) : null),
      cell(1, { text: v.role.replace("_", " ") }),
      cell(2, { text: v.stage || "—" }),
      cell(3, { class: `breaker s-${v.breaker.state}`, "data-state": v.breaker.state }, breakerCell(v.breaker)),
      cell(4, { class: "num", text: num(v.requests) }),
      cell(5, { class: "num", text: `${num(v.errors)} (${pct(v.error_rate)})` }),
      cell(6, { class: "num", text: `${ms(v.latency.p50_ms)} / ${ms(v.latency.p95_ms)}` }),
      cell(7, {}, el("div", { class: "trend" },
        el("span", { "aria-hidden": "true", text: "p95" }), sparkline(v.series, "p95_ms", "lat", `p95 latency of ${v.version}`),
        el("span", { "aria-hidden": "true", text: "errors" }), sparkline(v.series, "error_rate", "err", `error rate of ${v.version}`)))));
    return el("section", { "aria-label": `Versions of ${model.model_id}` }, el("h3", { text: "Versions" }),
      el("div", { class: "scroll", tabindex: 0, role: "region", "aria-label": `Versions of ${model.model_id} (scrollable)` },
        el("table", { class: "versions", role: "table" },
          el("thead", { role: "rowgroup" }, el("tr", { role: "row" }, head.map((h) => el("th", { scope: "col", role: "columnheader", text: h })))),
          el("tbody", { role: "rowgroup" }, rows))));
  }

  function drift(model) {
    const d = model.drift;
    const section = el("section", { class: "drift", "aria-label": `Drift of ${model.model_id}` }, el("h3", { text: "Latest drift check" }));
    if (!d) {
      section.append(el("p", { class: "empty", text: "No drift check yet: set reference data, then run detect_drift." }));
      return section;
    }
    const verdict = d.dataset_drift ? "dataset drift" : "no dataset drift";
    section.append(el("p", { text: `${clock(d.checked_at)}${d.version ? ", version " + d.version : ""}: ${d.method}, ${d.drifted_features.length} of ${d.checked_features} features drifted (${verdict}); ${num(d.reference_rows)} reference rows, ${num(d.current_rows)} current rows.` }));
    if (!d.histograms.length) return section;
    section.append(el("ul", { class: "legend" },
      el("li", {}, el("span", { class: "swatch ref", "aria-hidden": "true" }), "reference"),
      el("li", {}, el("span", { class: "swatch cur", "aria-hidden": "true" }), "current")));
    section.append(el("div", { class: "hists" }, d.histograms.map((h) => el("figure", { "data-feature": h.feature },
      histogram(h),
      el("figcaption", {}, el("strong", { text: h.feature }),
        ` — ${h.method} ${score(h.score)} vs threshold ${h.threshold}` + (h.p_value !== null ? `, p = ${score(h.p_value)}` : "")),
      el("details", { "data-key": `hist-${slug(model.model_id)}-${slug(h.feature)}` }, el("summary", { text: "Values" }), histogramTable(h))))));
    return section;
  }

  function modelCard(model) {
    const id = `model-${slug(model.model_id)}`;
    return el("article", { class: "card model", id, "aria-labelledby": `${id}-h`, "data-model": model.model_id },
      el("div", { class: "model-head" },
        el("h2", { id: `${id}-h`, text: model.model_id }),
        el("span", { class: `badge s-${model.status}`, text: model.status }),
        el("span", { class: "muted", text: `active: ${model.active_version || "none"}` })),
      model.reasons.length ? el("ul", { class: "reasons" }, model.reasons.map((r) => el("li", { text: r }))) : null,
      traffic(model), canary(model), versions(model), drift(model));
  }

  function alerts(view) {
    const body = el("div", { class: "body" },
      el("p", { class: "counts" }, el("span", { class: "s-critical", text: `${view.critical} critical` }), ", ", el("span", { class: "s-warning", text: `${view.warning} warning` })));
    if (!view.open.length) body.append(el("p", { class: "empty", text: "No open alerts." }));
    else body.append(el("ul", { class: "alert-list" }, view.open.map((a) => el("li", { class: `s-${a.severity}`, "data-severity": a.severity },
      el("strong", { text: `${a.severity.toUpperCase()} · ${a.model_id}${a.version ? " " + a.version : ""} · ${a.kind.replace("_", " ")}` }),
      el("p", { text: a.message }),
      el("span", { class: "muted", text: `since ${clock(a.first_seen)}, last ${clock(a.last_seen)}${a.occurrences > 1 ? ", ×" + a.occurrences : ""}` })))));
    return body;
  }

  function audit(view) {
    if (!view.available) return el("div", { class: "body" }, el("p", { class: "empty", text: view.note }));
    if (!view.entries.length) return el("div", { class: "body" }, el("p", { class: "empty", text: "No audited calls yet." }));
    return el("div", { class: "body scroll", tabindex: 0, role: "region", "aria-label": "Audit entries (scrollable)" },
      el("table", {}, el("thead", {}, el("tr", {}, ["time", "caller", "call"].map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, view.entries.map((e) => el("tr", {},
          el("td", { text: clock(e.at) }),
          el("td", {}, e.caller, el("span", { class: "sub muted", text: ` ${e.role}` })),
          el("td", { title: e.message || null }, e.tool,
            el("span", { class: `sub ${e.outcome === "ok" ? "s-ok" : "s-error"}`, text: ` ${e.model_id || "—"} · ${e.outcome === "ok" ? "ok" : "error: " + (e.error_category || "")}` })))))));
  }

  // ---- rendering a snapshot, keeping focus and open <details> across refreshes ----------------
  let lastStatus = null;
  function render(data) {
    const open = new Set([...document.querySelectorAll("details[open][data-key]")].map((d) => d.dataset.key));
    const focused = document.activeElement && document.activeElement.closest("#content") ? focusKey(document.activeElement) : null;
    const models = $("models");
    models.replaceChildren(...(data.models.length ? data.models.map(modelCard) : [el("section", { class: "card" }, el("h2", { text: "No models deployed" }), el("p", { class: "empty", text: "Deploy one with deploy_model." }))]));
    $("alerts").querySelector(".body").replaceWith(alerts(data.alerts));
    $("audit").querySelector(".body").replaceWith(audit(data.audit));
    for (const d of document.querySelectorAll("details[data-key]")) d.open = open.has(d.dataset.key);
    if (focused) {
      const target = document.querySelector(focused);
      if (target) target.focus();
    }
    const status = `Overall: ${data.status}` + (data.model_filter ? ` (model ${data.model_filter})` : "");
    if (status !== lastStatus) $("overall").textContent = lastStatus = status;
    $("updated").textContent = `· updated ${clock(data.generated_at)}`;
    $("content").setAttribute("aria-busy", "false");
    showProblem("");
  }
  function focusKey(node) {
    const details = node.closest("details[data-key]");
    if (details) return `details[data-key="${CSS.escape(details.dataset.key)}"] summary`;
    const region = node.closest(".scroll[aria-label]");
    return region ? `.scroll[aria-label="${CSS.escape(region.getAttribute("aria-label"))}"]` : null;
  }
  function showProblem(text) {
    $("problem").textContent = text;
    $("problem").hidden = !text;
  }

  // ---- HTTP mode --------------------------------------------------------------------------------
  function httpMode() {
    const dataUrl = location.pathname.replace(/\/+$/, "") + "/data" + location.search;
    let timer = null;
    let inFlight = false;
    const token = () => sessionStorage.getItem(TOKEN_KEY);

    async function load() {
      if (inFlight) return;
      inFlight = true;
      try {
        const headers = { Accept: "application/json" };
        if (token()) headers.Authorization = "Bearer " + token();
        const response = await fetch(dataUrl, { headers, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" });
        if (response.status === 401) return askForToken(token() ? "That token was refused: check it, or ask for a new one." : "");
        const body = await response.json().catch(() => ({}));
        if (!response.ok) return showProblem(`The server answered ${response.status}: ${body.error_description || body.error || "error"}`);
        $("login").hidden = true;
        $("content").hidden = false;
        $("forget").hidden = !token();
        render(body);
      } catch (error) {
        showProblem(`Cannot reach the server (${error.message}); retrying.`);
      } finally {
        inFlight = false;
        schedule();
      }
    }
    function schedule() {
      clearTimeout(timer);
      if ($("auto").checked && !document.hidden && $("login").hidden) timer = setTimeout(load, REFRESH_MS);
    }
    function askForToken(message) {
      sessionStorage.removeItem(TOKEN_KEY);
      $("login").hidden = false;
      $("content").hidden = true;
      $("forget").hidden = true;
      $("login-error").textContent = message;
      $("token").focus();
    }
    $("login-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("token").value.trim();
      if (!value) return;
      sessionStorage.setItem(TOKEN_KEY, value);
      $("token").value = "";
      $("login-error").textContent = "";
      $("login").hidden = true;
      load();
    });
    $("forget").addEventListener("click", () => askForToken("Token forgotten."));
    $("refresh").addEventListener("click", load);
    $("auto").addEventListener("change", schedule);
    document.addEventListener("visibilitychange", () => (document.hidden ? clearTimeout(timer) : load()));
    load();
  }

  // ---- MCP App mode: the host bridge (JSON-RPC 2.0 over postMessage) ------------------------------
  function appMode() {
    const pending = new Map();
    let nextId = 1;
    let argumentsSeen = {};
    const post = (message) => window.parent.postMessage({ jsonrpc: "2.0", ...message }, "*");
    const notify = (method, params) => post({ method, params });
    function request(method, params) {
      const id = nextId++;
      post({ id, method, params });
      return new Promise((resolve, reject) => {
        const timeout = setTimeout(() => { pending.delete(id); reject(new Error(`${method} timed out`)); }, 30000);
        pending.set(id, { resolve, reject, timeout });
      });
    }
    function showResult(result) {
      if (!result) return;
      if (result.isError || !result.structuredContent) {
        const text = (result.content || []).filter((c) => c.type === "text").map((c) => c.text).join(" ");
        return showProblem(text || "The dashboard tool returned no data.");
      }
      render(result.structuredContent);
    }
    function applyHostContext(context) {
      if (context && (context.theme === "dark" || context.theme === "light")) document.documentElement.dataset.theme = context.theme;
      const variables = context && context.styles && context.styles.variables;
      if (variables) for (const [key, value] of Object.entries(variables)) if (key.startsWith("--") && value) document.documentElement.style.setProperty(key, value);
    }
    window.addEventListener("message", (event) => {
      if (event.source !== window.parent) return;
      const message = event.data;
      if (!message || message.jsonrpc !== "2.0") return;
      if (message.method === undefined && pending.has(message.id)) {
        const waiting = pending.get(message.id);
        pending.delete(message.id);
        clearTimeout(waiting.timeout);
        if (message.error) waiting.reject(new Error(message.error.message || "request failed"));
        else waiting.resolve(message.result);
        return;
      }
      const params = message.params || {};
      switch (message.method) {
        case "ui/notifications/tool-input": argumentsSeen = params.arguments || {}; break;
        case "ui/notifications/tool-result": showResult(params); break;
        case "ui/notifications/tool-cancelled": showProblem(`The dashboard call was cancelled${params.reason ? ": " + params.reason : ""}.`); break;
        case "ui/notifications/host-context-changed": applyHostContext(params); break;
        case "ui/resource-teardown": case "ping": post({ id: message.id, result: {} }); break;
        default:
          if (message.id !== undefined && message.method) post({ id: message.id, error: { code: -32601, message: `method not found: ${message.method}` } });
      }
    });
    $("refresh").addEventListener("click", async () => {
      const args = {};
      if (argumentsSeen.model_id) args.model_id = argumentsSeen.model_id;
      $("content").setAttribute("aria-busy", "true");
      try {
        showResult(await request("tools/call", { name: "show_dashboard", arguments: args }));
      } catch (error) {
        showProblem(`Refresh failed: ${error.message}`);
      }
    });
    let lastSize = "";
    const reportSize = () => {
      const size = { width: Math.ceil(document.documentElement.scrollWidth), height: Math.ceil(document.documentElement.scrollHeight) };
      const key = size.width + "x" + size.height;
      if (key !== lastSize) { lastSize = key; notify("ui/notifications/size-changed", size); }
    };
    if (window.parent === window) return showProblem("This view is an MCP App: open it from an MCP host (show_dashboard), or use /dashboard in HTTP mode.");
    request("ui/initialize", {
      protocolVersion: "2026-01-26",
      appInfo: { name: "nba-mcp-deploy dashboard", version: "1.0.0" },
      appCapabilities: { availableDisplayModes: ["inline", "fullscreen"] },
    }).then((result) => {
      applyHostContext(result && result.hostContext);
      notify("ui/notifications/initialized", {});
      new ResizeObserver(reportSize).observe(document.documentElement);  // sizes only after the handshake
    }).catch((error) => showProblem(`The host did not answer ui/initialize (${error.message}).`));
  }

  if (MODE === "app") appMode();
  else httpMode();
})();

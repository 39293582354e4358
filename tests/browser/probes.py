"""JavaScript the tests evaluate in the page: what the dashboard shows, and accessibility checks.

Each is a function expression taking no argument; it returns JSON-safe facts for Python to assert.
"""

DOM_FACTS = """() => {
  const text = (node) => (node ? node.textContent.replace(/\\s+/g, " ").trim() : null);
  const models = [...document.querySelectorAll("article[data-model]")].map((card) => ({
    model: card.dataset.model,
    status: text(card.querySelector(".badge")),
    versions: [...card.querySelectorAll("tr[data-version]")].map((row) => ({
      version: row.dataset.version,
      cells: [...row.querySelectorAll("th, td")].map(text),
      breaker: row.querySelector("td.breaker").dataset.state,
      breakerText: text(row.querySelector("td.breaker")),
      sparklines: row.querySelectorAll("svg.spark polyline").length,
    })),
    shares: [...card.querySelectorAll(".seg")].map((seg) => ({
      version: seg.dataset.version, weight: Number(seg.dataset.weight), text: text(seg),
      width: seg.getBoundingClientRect().width,
    })),
    trafficTitle: text(card.querySelector("section[aria-label^='Traffic'] h3")),
    driftSummary: text(card.querySelector("section.drift p")),
    figures: [...card.querySelectorAll("figure[data-feature]")].map((f) => ({
      feature: f.dataset.feature, caption: text(f.querySelector("figcaption")),
      refBars: f.querySelectorAll("rect.ref").length, curBars: f.querySelectorAll("rect.cur").length,
    })),
  }));
  return {
    overall: text(document.getElementById("overall")),
    updated: text(document.getElementById("updated")),
    loginVisible: !document.getElementById("login").hidden,
    loginError: text(document.getElementById("login-error")),
    problem: document.getElementById("problem").hidden ? null : text(document.getElementById("problem")),
    models,
    alertCounts: text(document.querySelector("#alerts .counts")),
    alerts: [...document.querySelectorAll("#alerts li[data-severity]")].map((li) => ({ severity: li.dataset.severity, text: text(li) })),
    audit: text(document.querySelector("#audit .body")),
    auditRows: [...document.querySelectorAll("#audit tbody tr")].map((tr) => [...tr.children].map(text)),
  };
}"""

ACCESSIBILITY = """() => {
  const problems = [];
  const visible = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el); return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none"; };
  const name = (el) => (el.getAttribute("aria-label") || el.textContent || "").trim() || (el.id && document.querySelector(`label[for="${el.id}"]`) ? "label" : "") || (el.closest("label") ? "label" : "");
  for (const el of document.querySelectorAll("button, input, select, textarea, a[href]")) if (!name(el)) problems.push(`no accessible name: ${el.outerHTML.slice(0, 80)}`);
  for (const el of document.querySelectorAll("svg[role=img], [role=img]")) if (!(el.getAttribute("aria-label") || "").trim()) problems.push(`image without a label: ${el.outerHTML.slice(0, 80)}`);
  for (const el of document.querySelectorAll("table")) if (!el.querySelector("th")) problems.push("table without headers");
  if (document.querySelectorAll("h1").length !== 1) problems.push("expected exactly one h1");
  if (!document.documentElement.lang) problems.push("no lang on html");
  const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (el) => {
    for (let n = el; n; n = n.parentElement) { const c = parse(getComputedStyle(n).backgroundColor); if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3); }
    return [255, 255, 255];
  };
  let worst = 21;
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest("svg") || !visible(el)) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const fg = parse(getComputedStyle(el).color).slice(0, 3);
    const [a, b] = [luminance(fg), luminance(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const style = getComputedStyle(el);
    const large = parseFloat(style.fontSize) >= 24 || (parseFloat(style.fontSize) >= 18.6 && Number(style.fontWeight) >= 700);
    worst = Math.min(worst, ratio);
    if (ratio < (large ? 3 : 4.5)) problems.push(`contrast ${ratio.toFixed(2)} for "${el.textContent.trim().slice(0, 40)}"`);
  }
  return { problems, worstContrast: worst };
}"""

LAYOUT = """() => ({
  overflow: document.documentElement.scrollWidth - window.innerWidth,
  width: window.innerWidth,
  columns: getComputedStyle(document.querySelector("main")).gridTemplateColumns.split(" ").length,
})"""

() => {
  const problems = [];
  const visible = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el); return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none"; };
  const name = (el) => (el.getAttribute("aria-label") || el.textContent || "").trim() || (el.id && document.querySelector(`label[for="${el.id}"]`) ? "label" : "") || (el.closest("label") ? "label" : "");
  for (const el of document.querySelectorAll("button, input, select, textarea, a[href]")) if (!name(el)) problems.push(`no accessible name: ${el.outerHTML.slice(0, 80)}`);
  for (const el of document.querySelectorAll("svg[role=img], [role=img]")) if (!(el.getAttribute("aria-label") || "").trim()) problems.push(`image without a label: ${el.outerHTML.slice(0, 80)}`);
  for (const el of document.querySelectorAll("table")) if (!el.querySelector("th")) problems.push("table without headers");
  if (document.querySelectorAll("h1").length !== 1) problems.push("expected exactly one h1");
  if (!document.documentElement.lang) problems.push("no lang on html");
  const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const parse = (c) => (c.match(/[\d.]+/g) || []).map(Number);
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
}

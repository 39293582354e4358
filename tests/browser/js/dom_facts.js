() => {
  const text = (node) => (node ? node.textContent.replace(/\s+/g, " ").trim() : null);
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
}

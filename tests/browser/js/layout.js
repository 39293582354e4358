() => ({
  overflow: document.documentElement.scrollWidth - window.innerWidth,
  width: window.innerWidth,
  columns: getComputedStyle(document.querySelector("main")).gridTemplateColumns.split(" ").length,
})

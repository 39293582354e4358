"""JavaScript the tests evaluate in the page (files in `js/`): what the dashboard shows, and
accessibility and layout checks. Each file is one function expression taking no argument; it
returns JSON-safe facts for Python to assert on."""

from pathlib import Path

JS = Path(__file__).resolve().parent / "js"

DOM_FACTS = (JS / "dom_facts.js").read_text()
ACCESSIBILITY = (JS / "accessibility.js").read_text()
LAYOUT = (JS / "layout.js").read_text()

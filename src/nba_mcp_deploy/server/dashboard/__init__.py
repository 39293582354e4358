"""The deployment dashboard in the server: the `show_dashboard` MCP App (tool + `ui://` view)
and, in HTTP mode, `GET /dashboard` (the same view) with `GET /dashboard/data` (its JSON).

    view.py     the self-contained HTML document, built from assets/ (HTML, CSS, JS)
    collect.py  the live services read into a DashboardSnapshot, shown like every tool result
    tools.py    dashboard_app(): the MCP Apps extension with the tool and its ui:// resource
    routes.py   dashboard_routes(): the two HTTP routes, behind the bearer-token roles
"""

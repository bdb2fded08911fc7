"""`ipb serve`: the ledger in the browser, over the same services, reports and storage as the CLI.

Server-rendered HTML (Starlette routes, Jinja2 templates), working without JavaScript. Like the CLI, this
floor parses, calls and renders: it never touches a table. Who acts is the signed-in user of the session
(ledger/services/sign_in.py), never anything the request names.
"""

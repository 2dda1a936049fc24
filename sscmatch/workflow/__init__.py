"""Use cases: what the pages, the API and the CLI do, written once. They take a session and never
commit (the edge does)."""

"""Handler modules for the guard tests: the guard watches module globals, so they are real files."""

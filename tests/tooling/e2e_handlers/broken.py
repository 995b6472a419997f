"""Init fails: the module raises while it is imported."""

raise RuntimeError("missing configuration: TABLE_NAME")

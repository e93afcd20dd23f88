"""One module per command; each exposes ``run(args, ctx) -> exit code``."""

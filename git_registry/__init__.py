"""git-registry: a Git plugin that turns a Git repository into an artifact registry."""

__version__ = "0.1.0"

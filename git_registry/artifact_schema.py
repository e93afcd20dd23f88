"""The JSON Schema (draft 2020-12) of ``artifacts.yaml``, for editors and CI: the
same rules :mod:`git_registry.annotations` applies."""

from __future__ import annotations

from git_registry.annotations import FREE_TEXT
from git_registry.controls import control_class
from git_registry.grammar import NAME_RE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``artifacts.yaml``."""
    name = NAME_RE.pattern
    # A full artifact name: an optional folder before ':' ('.' and '..' parts are
    # refused by the validator, not by this pattern).
    artifact = f"(?:[a-zA-Z0-9_.-]+(?:/[a-zA-Z0-9_.-]+)*:)?(?:{name})"
    # The control-character rule of _field; "not" a pattern that finds one, so that no
    # anchor ('$' before a final newline in Python) gets in the way.
    no_control = {"not": {"pattern": f"[{control_class(surrogates=False)}]"}}
    free_text = {"not": {"pattern": f"[{control_class(allowed=FREE_TEXT, surrogates=False)}]"}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://git-registry.invalid/schema/artifacts.schema.json",
        "title": "git-registry artifacts.yaml",
        "description": "Annotations of the artifacts of a git-registry repository: a mapping from "
        "artifact name to its annotation. A file in folder a/b declares artifacts a/b:NAME.",
        "type": ["object", "null"],
        "propertyNames": {"pattern": f"^{name}$"},
        "additionalProperties": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "properties": {
                "path": {
                    "type": "string",
                    "minLength": 1,
                    **no_control,
                    "description": "A file or folder in the repository, relative to this "
                    "file's folder, or a URL (s3://, gs://, https://, ...).",
                },
                "type": {
                    "type": "string",
                    "pattern": f"^{name}$",
                    "description": "The kind of artifact, e.g. model or dataset.",
                },
                "description": {"type": "string", **free_text},
                "labels": {
                    "type": "array",
                    "items": {"type": "string", "pattern": f"^{name}$"},
                    "uniqueItems": True,
                },
                "custom": {"description": "Any YAML value: free-form metadata."},
                "virtual": {
                    "type": "boolean",
                    "default": True,
                    "description": "false: path must exist in the commit.",
                },
                "sha256": {
                    "type": "string",
                    "pattern": "^[0-9a-fA-F]{64}$",
                    "description": "The SHA-256 of the file at path: 'git registry get' "
                    "checks what it downloads against it.",
                },
                "requires": {
                    "type": "array",
                    "items": {"type": "string", "pattern": f"^{artifact}$"},
                    "uniqueItems": True,
                    "description": "Artifacts (full registry names, as in tags: features, "
                    "models/cv:seg) that must each have a version in a stage before this "
                    "artifact is promoted to it.",
                },
            },
        },
    }


def policy_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``.registry.yaml``: the rules of
    :mod:`git_registry.policy` that a schema can say (that ``after`` names listed
    stages, and that the signers file exists, ``git registry check`` says)."""
    name = {"type": "string", "pattern": f"^{NAME_RE.pattern}$"}
    no_control = {"not": {"pattern": f"[{control_class(surrogates=False)}]"}}
    names = {"type": ["array", "null"], "items": name, "uniqueItems": True}
    rule = {
        "type": ["object", "null"],
        "additionalProperties": False,
        "properties": {
            "after": {
                **names,
                "description": "The version holds, or has held, one of these stages first.",
            },
            "branches": {
                "type": "array",
                "items": {"type": "string", "minLength": 1, "pattern": "^[^-]", **no_control},
                "uniqueItems": True,
                "description": "The version's commit is on one of these branches (* globs).",
            },
            "signed": {
                "type": "boolean",
                "default": False,
                "description": "Every tag of the stage carries a valid signature.",
            },
            "signers": {
                "type": "array",
                "items": {"type": "string", "pattern": '^[^\\s,"]+$', **no_control},
                "uniqueItems": True,
                "description": "Only these principals may sign the stage's tags.",
            },
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://git-registry.invalid/schema/registry.schema.json",
        "title": "git-registry .registry.yaml",
        "description": "The team policy of a git-registry repository: allowed stages and "
        "types, and the rules of promotions (read from HEAD; on the server, from its "
        "default branch).",
        "type": ["object", "null"],
        "additionalProperties": False,
        "properties": {
            "stages": {**names, "description": "The allowed stages, in display order."},
            "types": {**names, "description": "The allowed artifact types."},
            "promotion": {
                "type": ["object", "null"],
                "propertyNames": {"pattern": f"^{NAME_RE.pattern}$"},
                "additionalProperties": rule,
                "description": "Per stage, how a version reaches it.",
            },
            "allowed_signers": {
                "type": "string",
                "minLength": 1,
                "pattern": "^(?!/)(?!.*(^|/)\\.\\.?(/|$))",
                **no_control,
                "description": "The committed SSH allowed-signers file (a path from the "
                "repository's root), in the format of ssh-keygen(1).",
            },
        },
    }


def json_schema_text(policy: bool = False) -> str:
    import json

    return json.dumps(policy_json_schema() if policy else json_schema(), indent=2) + "\n"

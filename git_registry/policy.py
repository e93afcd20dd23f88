"""Team policy (SPEC 5): what the committed policy file says (its rules live in
:mod:`git_registry.rules`).

The policy is the committed ``.registry.yaml``, or GTO's ``.gto`` when there is
none (whose ``stages`` and ``types`` only are read)::

    stages: [dev, staging, prod]      # an ordered allow-list
    types: [model, dataset]           # an allow-list
    promotion:                        # governance: how a version reaches a stage
      staging: {after: [dev]}
      prod:
        after: [staging]              # it holds, or has held, one of these first
        branches: [main, release/*]   # its commit is on one of these branches
        signed: true                  # the stage's tags carry a valid signature
        signers: [alice@acme.example] # ... from one of these principals
    allowed_signers: .registry/allowed_signers   # SSH allowed-signers file (committed)

Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from git_registry.annotations import FileProblem
from git_registry.controls import CONTROL_RE
from git_registry.grammar import NAME_RE, NAME_RULE

TYPE_CHECKING = False
if TYPE_CHECKING:  # yamlsafe is imported to parse only (not for a cached policy)
    from git_registry.yamlsafe import Node

CONFIG_FILE = ".registry.yaml"
GTO_CONFIG_FILE = ".gto"
_KEYS = ("stages", "types", "promotion", "allowed_signers")
_GTO_KEYS = ("stages", "types")
GTO_SETTINGS = {
    "index": "a string",
    "config_file_name": "a string or null",
    "log_level": "a string",
    "debug": "true or false",
    "emojis": "true or false",
    "types": "a list of names",
    "stages": "a list of names",
    "enrichments": "a list",
    "autoload_enrichments": "true or false",
}
"""GTO 1.10.1's settings (``gto/config.py``, pydantic-settings): the only keys ``.gto``
may hold, matched regardless of case, and their types."""
_YAML11_BOOLS = ("yes", "no", "on", "off", "y", "n")
"""Words YAML 1.1 (PyYAML) reads as booleans and YAML 1.2 (GTO's ruamel) as strings."""
_BOOL_WORDS = ("true", "false", "yes", "no", "on", "off", "y", "n", "t", "f", "1", "0")
"""What pydantic reads as a boolean (lax mode), lower-cased."""
PROMOTION_KEYS = ("after", "branches", "signed", "signers")


@dataclass(frozen=True, slots=True)
class Promotion:
    """The rules of one stage's tags (``promotion: STAGE: …``)."""

    stage: str
    after: tuple[str, ...] = ()
    """The version holds, or has held, one of these stages before it is assigned this one."""
    branches: tuple[str, ...] = ()
    """The version's commit is reachable from a branch matching one of these (``*`` globs)."""
    signed: bool = False
    """Every tag of the stage (assignments, unassignments, deregistering a holder) is signed."""
    signers: tuple[str, ...] = ()
    """... by one of these principals (implies ``signed``)."""
    line: int = 0
    """Where the stage's rules start in the policy file (1-based; 0: unknown)."""


@dataclass(frozen=True, slots=True)
class Policy:
    """What the team allows; None means "anything"."""

    stages: tuple[str, ...] | None = None
    types: tuple[str, ...] | None = None
    file: str | None = None
    """Where it came from (``.registry.yaml``, ``.gto``), or None if there is no file."""
    promotion: tuple[Promotion, ...] = ()
    allowed_signers: str | None = None
    """The committed SSH allowed-signers file (a path from the repository's root)."""
    allowed_signers_line: int = 0

    def promotion_of(self, stage: str | None) -> Promotion | None:
        """The rules of ``stage``'s tags, or None if it has none."""
        for rule in self.promotion:
            if rule.stage == stage:
                return rule
        return None

    @property
    def signed_stages(self) -> tuple[str, ...]:
        return tuple(rule.stage for rule in self.promotion if rule.signed)


def parse_policy(data: bytes, file: str) -> tuple[Policy, tuple[FileProblem, ...]]:
    """Read ``.registry.yaml`` (or GTO's ``.gto``, whose other settings are ignored).

    Returns:
        The policy (the parts that could be read) and the problems, with their places.
    """
    from git_registry.yamlsafe import YamlError, load

    try:
        root, yaml_problems = load(data)
    except YamlError as exc:
        p = exc.problem
        return Policy(file=file), (FileProblem(file, p.line, p.column, p.message),)
    reader = _Reader(file)
    reader.problems.extend(
        FileProblem(file, p.line, p.column, p.message, key=p.path[0] if p.path else None)
        for p in yaml_problems
    )
    if root is None:
        return Policy(file=file), tuple(reader.problems)
    if root.kind != "map":
        reader.add(root, f"expected a mapping, found {root.type_name()}")
        return Policy(file=file), tuple(reader.problems)
    policy = reader.policy(root)
    # In the file's order (the rules of 'promotion' are read once 'stages' is known).
    return policy, tuple(sorted(reader.problems, key=lambda p: (p.line, p.column)))


class _Reader:
    """Reads a policy file's mapping, collecting every problem with its place."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[FileProblem] = []

    def add(self, node: Node, message: str, key: str | None = None) -> None:
        self.problems.append(FileProblem(self.file, node.line, node.column, message, key=key))

    def policy(self, root: Node) -> Policy:
        if self.file == GTO_CONFIG_FILE:
            return self.gto_policy(root)
        nodes: dict[str, tuple[Node, Node]] = {}
        for key, value in root.value:
            name = key.value
            if name in _KEYS:
                nodes[name] = (key, value)
            else:
                self.add(key, f"unknown key '{name}' (allowed: {', '.join(_KEYS)})", str(name))
        lists = {
            name: self.names(name, nodes[name][1]) for name in ("stages", "types") if name in nodes
        }
        stages = lists.get("stages")
        promotion: tuple[Promotion, ...] = ()
        if "promotion" in nodes:
            promotion = self.promotion(nodes["promotion"][1], stages)
        signers, signers_line = None, 0
        if "allowed_signers" in nodes:
            key, value = nodes["allowed_signers"]
            signers, signers_line = self.path("allowed_signers", value), key.line
        return Policy(stages, lists.get("types"), self.file, promotion, signers, signers_line)

    def gto_policy(self, root: Node) -> Policy:
        """GTO's ``.gto``, read as GTO 1.10.1 reads it (pydantic-settings): keys in any
        case, the first of those that differ only in case wins; a key GTO does not know,
        or a value of the wrong type, makes GTO refuse the whole file, so it is a problem
        here too. Only ``stages`` and ``types`` are used. (GTO also reads ``GTO_*``
        environment variables and the work tree's file; the registry reads the committed
        file only, so that every clone and the server enforce the same policy.)"""
        nodes: dict[str, Node] = {}
        for key, value in root.value:
            name = key.value
            lower = name.lower() if isinstance(name, str) else None
            if lower not in GTO_SETTINGS:
                self.add(
                    key,
                    f"unknown key '{name}': GTO 1.10.1 refuses the file ('Wrong config file') "
                    f"(its keys, in any case: {', '.join(GTO_SETTINGS)})",
                    str(name),
                )
                continue
            assert lower is not None
            if lower in nodes:
                continue  # pydantic-settings takes the first, as GTO does
            nodes[lower] = value
            if lower not in ("stages", "types") and not _gto_setting_ok(lower, value):
                what = GTO_SETTINGS[lower]
                self.add(
                    value,
                    f"'{name}' must be {what}, found {value.type_name()}: GTO 1.10.1 refuses "
                    "the file ('Wrong config file')",
                    str(name),
                )
        lists = {
            name: self.names(name, nodes[name], gto=True)
            for name in ("stages", "types")
            if name in nodes
        }
        return Policy(lists.get("stages"), lists.get("types"), self.file)

    def names(
        self, key: str, node: Node, where: str = "", *, gto: bool = False
    ) -> tuple[str, ...] | None:
        """A list of names (``stages``, ``types``, ``after`` of the rule ``where``, which
        its messages name); None if it is null or not a list. ``gto``: as GTO reads
        ``.gto`` (YAML 1.2 words are names, a name may be listed twice)."""
        if node.kind == "scalar" and node.value is None:
            return None
        at = f"{where}: '{key}'" if where else f"'{key}'"
        if node.kind != "seq":
            self.add(node, f"{at} must be a list of names, found {node.type_name()}", key)
            return None
        names: list[str] = []
        for item in node.value:
            value = item.value
            if gto and isinstance(value, bool) and (item.text or "").lower() in _YAML11_BOOLS:
                value = item.text  # a string for GTO's YAML 1.2 reader
            if item.kind != "scalar" or not isinstance(value, str):
                self.add(item, f"{at}: expected a name, found {item.type_name()}", key)
            elif not NAME_RE.fullmatch(value):
                self.add(item, f"{at}: invalid name '{value}': use {NAME_RULE}", key)
            elif value in names:
                if not gto:  # GTO lists a name twice without complaint
                    self.add(item, f"{at}: '{value}' is listed twice", key)
            else:
                names.append(value)
        return tuple(names)

    def strings(
        self, key: str, node: Node, check: Callable[[str], str | None], where: str
    ) -> tuple[str, ...]:
        """A list of strings each ``check`` accepts (``branches``, ``signers`` of the rule
        ``where``, which every message names: two stages' problems are two problems)."""
        if node.kind != "seq":
            self.add(node, f"{where}: '{key}' must be a list, found {node.type_name()}", key)
            return ()
        found: list[str] = []
        for item in node.value:
            if item.kind != "scalar" or not isinstance(item.value, str):
                self.add(
                    item, f"{where}: '{key}': expected a string, found {item.type_name()}", key
                )
                continue
            problem = check(item.value)
            if problem is not None:
                self.add(item, f"{where}: '{key}': {problem}", key)
            elif item.value in found:
                self.add(item, f"{where}: '{key}': '{item.value}' is listed twice", key)
            else:
                found.append(item.value)
        return tuple(found)

    def promotion(self, node: Node, stages: tuple[str, ...] | None) -> tuple[Promotion, ...]:
        if node.kind == "scalar" and node.value is None:
            return ()
        if node.kind != "map":
            self.add(node, f"'promotion' must map stages to rules, found {node.type_name()}")
            return ()
        rules = []
        for key, value in node.value:
            stage = key.value
            if not isinstance(stage, str) or not NAME_RE.fullmatch(stage):
                self.add(key, f"'promotion': invalid stage '{stage}': use {NAME_RULE}", "promotion")
                continue
            if stages is not None and stage not in stages:
                self.add(
                    key,
                    f"'promotion': stage '{stage}' is not in 'stages' ({', '.join(stages)})",
                    "promotion",
                )
            rule = self.stage_rule(stage, key, value, stages)
            if rule is not None:
                rules.append(rule)
        return tuple(rules)

    def stage_rule(
        self, stage: str, key: Node, node: Node, stages: tuple[str, ...] | None
    ) -> Promotion | None:
        where = f"'promotion: {stage}'"
        if node.kind == "scalar" and node.value is None:
            return Promotion(stage, line=key.line)
        if node.kind != "map":
            self.add(node, f"{where} must be a mapping of rules, found {node.type_name()}")
            return None
        lists: dict[str, tuple[str, ...]] = {}
        signed: bool | None = None
        for rule_key, value in node.value:
            name = rule_key.value
            if name not in PROMOTION_KEYS:
                allowed = ", ".join(PROMOTION_KEYS)
                self.add(
                    rule_key, f"{where}: unknown key '{name}' (allowed: {allowed})", "promotion"
                )
            elif name == "after":
                lists[name] = self.after(stage, value, stages)
            elif name == "branches":
                lists[name] = self.strings("branches", value, branch_problem, where)
            elif name == "signers":
                lists[name] = self.strings("signers", value, principal_problem, where)
            elif value.kind == "scalar" and isinstance(value.value, bool):
                signed = value.value
            else:
                self.add(
                    value, f"{where}: 'signed' must be true or false, found {value.type_name()}"
                )
        signers = lists.get("signers", ())
        if signed is False and signers:
            self.add(key, f"{where}: 'signers' needs 'signed: true' (or no 'signed')", "promotion")
        return Promotion(
            stage,
            after=lists.get("after", ()),
            branches=lists.get("branches", ()),
            signed=bool(signed) or bool(signers),
            signers=signers,
            line=key.line,
        )

    def after(self, stage: str, node: Node, stages: tuple[str, ...] | None) -> tuple[str, ...]:
        names = self.names("after", node, f"'promotion: {stage}'") or ()
        kept = []
        for name in names:
            if name == stage:
                self.add(node, f"'promotion: {stage}': 'after' names the stage itself", "promotion")
            elif stages is not None and name not in stages:
                self.add(
                    node,
                    f"'promotion: {stage}': 'after' names '{name}', which is not in 'stages'",
                    "promotion",
                )
            else:
                kept.append(name)
        return tuple(kept)

    def path(self, key: str, node: Node) -> str | None:
        """A file in the repository, from its root (``allowed_signers``)."""
        if node.kind != "scalar" or not isinstance(node.value, str):
            self.add(
                node, f"'{key}' must be a path in the repository, found {node.type_name()}", key
            )
            return None
        problem = path_problem(node.value)
        if problem is not None:
            self.add(node, f"'{key}': {problem}", key)
            return None
        return node.value.removeprefix("./")


def _gto_setting_ok(key: str, node: Node) -> bool:
    """Whether GTO 1.10.1 (pydantic, lax mode) accepts ``node`` for its setting ``key``."""
    value = node.value
    if GTO_SETTINGS[key] == "true or false":
        if node.kind != "scalar":
            return False
        if isinstance(value, bool) or value in (0, 1):
            return True
        text = node.text if node.text is not None else value
        return isinstance(text, str) and text.strip().lower() in _BOOL_WORDS
    if key == "enrichments":
        return node.kind == "seq"
    if node.kind != "scalar":
        return False
    if key == "config_file_name" and value is None:
        return True
    if isinstance(value, bool) and (node.text or "").lower() in _YAML11_BOOLS:
        return True  # a string for GTO's YAML 1.2 reader
    return isinstance(value, str)


def branch_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot name branches (a name, or a glob with ``*``), or None."""
    from git_registry.grammar import refname_problem

    if not pattern or CONTROL_RE.search(pattern):
        return f"'{pattern[:80]}' is not a branch name"
    if pattern.startswith(("-", "refs/")):
        return f"'{pattern[:80]}': give the branch name (main), not an option or a ref"
    problem = refname_problem("refs/heads/" + pattern.replace("*", "x"))
    return None if problem is None else f"'{pattern[:80]}' is not a branch name: {problem}"


def principal_problem(principal: str) -> str | None:
    """Why ``principal`` cannot be an allowed-signers principal, or None."""
    if not principal or CONTROL_RE.search(principal) or any(c in principal for c in ' \t,"'):
        return f"'{principal[:80]}' is not a principal (e.g. alice@acme.example)"
    return None


def path_problem(path: str) -> str | None:
    """Why ``path`` is not a file path inside the repository, or None."""
    parts = path.removeprefix("./").split("/")
    if not path or CONTROL_RE.search(path) or path.startswith("/") or "\\" in path:
        return f"'{path[:80]}' is not a path in the repository"
    if any(part in ("", ".", "..") for part in parts):
        return f"'{path[:80]}': give a plain path from the repository's root (no '..')"
    return None


_KEY_TYPE_RE = re.compile(
    r"(?:ssh-(?:ed25519|rsa|dss)|ecdsa-sha2-nistp(?:256|384|521)"
    r"|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)(?:-cert-v01@openssh\.com)?"
)
_BASE64_RE = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def allowed_signers_problems(data: bytes, file: str) -> list[FileProblem]:
    """The lines of an SSH allowed-signers file that cannot be one (``PRINCIPALS
    [OPTIONS] KEYTYPE KEY``, see ssh-keygen(1)); comments and blank lines are fine."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [FileProblem(file, 1, 1, "not UTF-8 text")]
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        key_at = next((i for i, w in enumerate(words[1:-1], 1) if _KEY_TYPE_RE.fullmatch(w)), None)
        if key_at is None or not _BASE64_RE.fullmatch(words[key_at + 1]):
            problems.append(
                FileProblem(
                    file,
                    number,
                    1,
                    "not an allowed-signers line (PRINCIPALS [OPTIONS] KEYTYPE KEY, "
                    "e.g. alice@acme.example ssh-ed25519 AAAA...)",
                )
            )
    return problems


_OPTION_RE = re.compile(r'([A-Za-z-]+)(?:="([^"]*)")?')
_SSH_TIME_RE = re.compile(r"(\d{8})(\d{4}(?:\d{2})?)?(Z?)")


def signer_window(data: bytes, principal: str, fingerprint: str) -> tuple[float, float] | None:
    """When the allowed-signers line of ``principal`` (as it is written there: a
    pattern) and the key ``fingerprint`` (``SHA256:…``) lets it sign: its
    ``valid-after`` and ``valid-before`` as Unix times (unbounded: -inf, inf); None if
    no line names them. A time it cannot read makes the window empty."""
    import base64
    import binascii
    import hashlib

    for line in data.decode("utf-8", "replace").splitlines():
        words = line.split()
        if not words or words[0].startswith("#") or principal not in words[0].split(","):
            continue
        key_at = next((i for i, w in enumerate(words[1:-1], 1) if _KEY_TYPE_RE.fullmatch(w)), None)
        if key_at is None:
            continue
        try:
            blob = base64.b64decode(words[key_at + 1], validate=True)
        except (binascii.Error, ValueError):
            continue
        digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
        if f"SHA256:{digest}" != fingerprint:
            continue
        window = [float("-inf"), float("inf")]
        for name, value in _OPTION_RE.findall(" ".join(words[1:key_at])):
            if name.lower() in ("valid-after", "valid-before"):
                when = _ssh_time(value)
                if when is None:
                    return (float("inf"), float("-inf"))
                window[0 if name.lower() == "valid-after" else 1] = when
        return (window[0], window[1])
    return None


def _ssh_time(text: str) -> float | None:
    """ssh-keygen's ``YYYYMMDD[HHMM[SS]][Z]`` (local time unless ``Z``) as a Unix time."""
    import calendar
    import time

    match = _SSH_TIME_RE.fullmatch(text)
    if match is None:
        return None
    day, clock, utc = match.groups()
    clock = (clock or "0000").ljust(6, "0")
    try:
        fields = time.strptime(day + clock, "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return float(calendar.timegm(fields) if utc else time.mktime(fields))


def ordered_stages(policy: Policy, used: Sequence[str]) -> list[str]:
    """Stages for display: the allow-list's order first, then any others in use."""
    first = list(policy.stages or ())
    return first + [s for s in used if s not in first]

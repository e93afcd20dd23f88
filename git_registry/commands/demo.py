"""``git registry demo [DIR]``: build the talk's example registry and show it.

The repository is reproducible: fixed identities and dates give the same
commit and tag ids on every machine. Tags are planned by the same code as the
real commands, so the demo shows exactly what ``register`` and ``promote`` do.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from git_registry import gitbin
from git_registry.commands import Command, show
from git_registry.errors import RegistryError
from git_registry.gitvalues import ObjectId, Signature
from git_registry.render import escape
from git_registry.session import Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.repo import Repository
    from git_registry.state import Registry


COMMAND = Command(
    name="demo",
    summary="build an example registry and show it",
    description=(
        "Create a new Git repository in DIR (default ./registry-demo) holding the talk's\n"
        "example registry (churn, segment, cv-class), then show it. Inside a Git work tree\n"
        "give DIR: the default would put the demo inside your repository."
    ),
    usage=("git registry demo [DIR]"),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "dir",
        metavar="DIR",
        nargs="?",
        help="where to create it (default ./registry-demo, outside a Git work tree)",
    )


DEMO_NAME = "Registry Demo"
DEMO_EMAIL = "demo@git-registry.invalid"
START = 1_648_800_000  # 2022-04-01 08:00:00 UTC, the month of the talk

FIRST_ARTIFACTS_YAML = """\
# Annotations of the registry's artifacts (see 'git registry schema').
churn:
  type: model
  path: s3://mycorp/proj-ml/churn-model.pt
  description: Customer churn classifier
  labels: [customer, xgboost]
segment:
  type: model
  path: s3://mycorp/proj-ml/segment-model.pt
  description: Car segmentation model
  labels: [cv, car]
"""
# The classifier is declared with its file (virtual: false: the file must exist in
# every commit that is tagged for it), so every tagged commit's artifacts.yaml is valid.
ARTIFACTS_YAML = (
    FIRST_ARTIFACTS_YAML
    + """\
cv-class:
  type: model
  path: models/cv-class.txt
  virtual: false
  description: Car part classifier
  labels: [cv, car, doors, glass]
"""
)


REGISTRY_YAML = """\
# Team policy: the stages, in order, and the artifact types this registry allows.
stages: [dev, staging, prod]
types: [model, dataset]
"""


@dataclass(frozen=True, slots=True)
class _Step:
    message: str
    files: dict[str, str]
    events: tuple[tuple[str, str, str | None], ...]
    """(artifact, version to register, stage to assign to it or None)."""


STEPS = (
    _Step(
        "Train churn model v3.0.0",
        {
            "artifacts.yaml": FIRST_ARTIFACTS_YAML,
            ".registry.yaml": REGISTRY_YAML,
            "models/churn.txt": "churn weights r1\n",
            "README.md": "# Registry demo\n\nBuilt by `git registry demo`.\n",
        },
        (("churn", "v3.0.0", "staging"), ("churn", "v3.0.0", "prod")),
    ),
    _Step(
        "Train car segmentation model",
        {"models/segment.txt": "segment weights r1\n"},
        (("segment", "v0.4.0", None),),
    ),
    _Step(
        "Train car part classifier",
        {"models/cv-class.txt": "cv-class weights r1\n", "artifacts.yaml": ARTIFACTS_YAML},
        (("cv-class", "v1.12.0", "staging"),),
    ),
    _Step(
        "Retrain churn with new features",
        {"models/churn.txt": "churn weights r2\n"},
        (("churn", "v3.1.0", "staging"),),
    ),
    _Step(
        "Tune segmentation thresholds",
        {"models/segment.txt": "segment weights r2\n"},
        (("segment", "v0.4.1", "dev"),),
    ),
    _Step(
        "Classifier: add glass label",
        {"models/cv-class.txt": "cv-class weights r2\n"},
        (("cv-class", "v1.13.0", "staging"),),
    ),
)


# The metrics and metadata the demo's registrations carry (register --metric / --meta:
# Registry-Metric / Registry-Meta trailers), so show churn and diff have some to show.
TRAILERS: dict[tuple[str, str], tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]] = {
    ("churn", "v3.0.0"): ((("auc", "0.91"), ("f1", "0.84")), (("dataset", "2022-03"),)),
    ("churn", "v3.1.0"): ((("auc", "0.93"), ("f1", "0.86")), (("dataset", "2022-04"),)),
    ("segment", "v0.4.0"): ((("iou", "0.71"),), ()),
    ("segment", "v0.4.1"): ((("iou", "0.74"),), ()),
}


def _git_env(env: dict[str, str], when: int) -> dict[str, str]:
    clean = {k: v for k, v in env.items() if not k.startswith("GIT_")}
    stamp = f"{when} +0000"
    clean.update(
        GIT_AUTHOR_NAME=DEMO_NAME,
        GIT_AUTHOR_EMAIL=DEMO_EMAIL,
        GIT_COMMITTER_NAME=DEMO_NAME,
        GIT_COMMITTER_EMAIL=DEMO_EMAIL,
        GIT_AUTHOR_DATE=stamp,
        GIT_COMMITTER_DATE=stamp,
        GIT_CONFIG_NOSYSTEM="1",
    )
    return clean


DEFAULT_DIR = "registry-demo"


def _work_tree_around(target: str, session: Session) -> str | None:
    """The Git work tree ``target`` would be inside (found from its nearest existing
    folder, as Git finds it, ``GIT_DIR`` and the like ignored), or None."""
    from git_registry.errors import GitError

    here = os.path.dirname(target)
    while not os.path.isdir(here):
        here = os.path.dirname(here)
    try:
        paths = gitbin.discover(here, env=gitbin.unrelated_env(session.env))
    except GitError:  # not in a repository (or one Git cannot read): nothing to protect
        return None
    return paths.work_tree


def build_demo(target: str, env: dict[str, str]) -> None:
    """Create the demo repository in ``target`` (which must not exist or be empty)."""
    from git_registry.repo import Repository

    gitbin.init_repository(target, env=_git_env(env, START))
    clock = START
    with Repository.discover(target, env=_git_env(env, START)) as repo:
        for step in STEPS:
            clock += 86_400
            for path, text in step.files.items():
                full = os.path.join(target, path)
                os.makedirs(os.path.dirname(full), exist_ok=True)
                with open(full, "w", encoding="utf-8") as f:
                    f.write(text)
            head = gitbin.commit_all(step.message, cwd=target, env=_git_env(env, clock))
            for artifact, version, stage in step.events:
                clock += 600
                _apply(repo, head, artifact, version, stage, clock)


def _state(repo: Repository) -> tuple[Registry, frozenset[str]]:
    from git_registry.state import build_registry

    refs = repo.tag_refs()
    return build_registry(repo.read_tags(refs.items())), frozenset(refs)


def _apply(
    repo: Repository, head: ObjectId, artifact: str, version: str, stage: str | None, clock: int
) -> None:
    from git_registry.plan import plan_promote, plan_register
    from git_registry.trailers import parse_metric_option, with_trailers

    registry, names = _state(repo)
    info = registry.artifacts.get(artifact)
    if info is None or info.version(version) is None:
        tag = plan_register(registry, names, artifact, head, version=version)
        metrics, meta = TRAILERS.get((artifact, version), ((), ()))
        message = with_trailers(
            tag.message, [parse_metric_option(f"{k}={v}") for k, v in metrics], meta
        )
        repo.create_tag(tag.name, tag.target, message, _tagger(clock))
    if stage is not None:
        registry, names = _state(repo)
        new = plan_promote(registry, names, artifact, stage, version=version).assignment
        repo.create_tag(new.name, new.target, new.message, _tagger(clock + 60))


def _tagger(when: int) -> Signature:
    return Signature(DEMO_NAME, DEMO_EMAIL, when, 0)


def run(args: argparse.Namespace, session: Session) -> int:
    target = os.path.abspath(os.path.join(session.cwd, args.dir or DEFAULT_DIR))
    if os.path.exists(target) and (not os.path.isdir(target) or os.listdir(target)):
        raise RegistryError(
            f"'{args.dir or DEFAULT_DIR}' already exists and is not empty",
            hint="choose another place: git registry demo DIR",
        )
    work_tree = _work_tree_around(target, session)
    if work_tree is not None and args.dir is None:
        raise RegistryError(
            f"you are in the Git work tree {escape(work_tree)}: the demo would be created "
            f"inside it, in {DEFAULT_DIR}",
            hint='create it outside, in a temporary folder: git registry demo "$(mktemp -d)"'
            " (or name the folder: git registry demo DIR)",
        )
    if work_tree is not None:
        session.warn(
            f"{escape(target)} is inside the Git work tree {escape(work_tree)}: "
            "its files will show up there as untracked"
        )
    build_demo(target, dict(session.env))
    session.out(f"Created a demo registry in {target}:")
    session.out()
    # Exactly what 'git registry show' prints there.
    inside = session.child(target)
    try:
        from git_registry.cli import command_parser

        show.run(command_parser("show").parse_args([]), inside)
    finally:
        inside.close()
    session.out()
    session.out("Try, in that directory:")
    session.out("    git registry show churn")
    session.out("    git registry history churn")
    session.out("    git registry promote churn prod")
    return 0

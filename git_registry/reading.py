"""Read a registry: from the repository's tags (all of them, or only some artifacts'),
or from several ``--remote`` caches as one; and what reading it has to say (rule
problems, a shallow clone that may lack tags).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from git_registry.gitvalues import ObjectId, TagRow
from git_registry.grammar import (
    TagFields,
    parse_tag_name,
    parse_tags,
    tag_prefixes,
)
from git_registry.session import Session
from git_registry.state import Event, Registry, build_registry_rows, history_key

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations is imported by the reads that show annotations only
    from git_registry.annotations import Annotation, FileProblem
    from git_registry.gtocompat import GtoView


@dataclass(frozen=True, slots=True)
class Loaded:
    """The registry, the names of every tag in the repository, and the registry tags
    it was built from (rows and parsed names), to check what new tags would do."""

    registry: Registry
    tag_names: frozenset[str]
    """The names of the tags listed: every tag, or (for a load of some artifacts) every
    tag whose name starts as theirs do (``NAME@``, ``NAME#``), registry tag or not:
    all the names a new tag of those artifacts could clash with."""
    rows: Sequence[TagRow] = ()
    fields: Sequence[TagFields] = ()
    tags_read: int = 0
    """How many registry tags were read (usable or not)."""


def without(loaded: Loaded, names: Collection[str]) -> Loaded:
    """``loaded`` as if the tags ``names`` were not there: the registry a write plans
    on before it replaces them (a retried ``--push``, ``push --renumber``)."""
    keep = [i for i, row in enumerate(loaded.rows) if row[0] not in names]
    rows = [loaded.rows[i] for i in keep]
    fields = [loaded.fields[i] for i in keep]
    registry = build_registry_rows(rows, fields, loaded.registry.known)
    return Loaded(registry, loaded.tag_names - frozenset(names), rows, fields, len(rows))


def load(
    session: Session, artifacts: Iterable[str] | None = None, *, keep_rows: bool = True
) -> Loaded:
    """Read the tags once and build the registry.

    With ``artifacts``, only those artifacts' tags are listed (a binary search in a
    sorted ``packed-refs`` and the loose refs of their prefixes: the cost of these
    artifacts, not of the repository) and their objects read; the other artifacts'
    names (:attr:`Registry.known`, for hints) are listed only if asked for.
    ``keep_rows`` False: :attr:`Loaded.rows` and ``fields`` stay empty (a read that
    needs only the registry: each row is freed as soon as its event is made).
    """
    if len(session.remotes) > 1:
        return load_many(session, artifacts)
    if artifacts is not None:
        artifacts = list(artifacts)
    warn_if_shallow(session, artifacts)
    repo = session.repo()
    if artifacts is None:
        refs = repo.tag_refs(fingerprint=not keep_rows)
        if not keep_rows:
            hit = _cached_state(session, refs)
            if hit is not None:
                return hit
        names = list(refs)
        parsed = parse_tags(names)
        selected = [(name, refs[name]) for name, p in zip(names, parsed, strict=True) if p]
        fields = [p for p in parsed if p]
        del parsed
        known: Iterable[str] | Callable[[], Iterable[str]] = {p[0] for p in fields}
    else:
        # A registry tag starts with its artifact's name (':' written '=') and '@' or
        # '#': list only those names, not all 100,000.
        wanted = set(artifacts)
        refs = repo.tag_refs(tag_prefixes(sorted(wanted)))
        names = list(refs)
        selected, fields = [], []
        for name, p in zip(names, parse_tags(names), strict=True):
            if p is not None and p[0] in wanted:
                selected.append((name, refs[name]))
                fields.append(p)

        def known() -> set[str]:
            return _known_artifacts(repo.tag_refs())

    tag_names = frozenset(refs)
    del refs, names  # the repository keeps the refs; these copies are not needed (memory)
    rows = repo.read_tag_rows(selected)
    del selected
    count = len(rows)
    lasting = repo.rows_lasting
    registry = build_registry_rows(rows, fields, known, consume=not keep_rows)
    if not keep_rows:
        if artifacts is None:
            _save_state(session, registry, count, lasting)
        return Loaded(registry, tag_names, tags_read=count)
    return Loaded(registry, tag_names, rows, fields, count)


def _cached_state(session: Session, refs: dict[str, ObjectId]) -> Loaded | None:
    """The whole registry from the state cache (:mod:`git_registry.statecache`) if it
    was written for these very refs, else None."""
    repo = session.repo()
    path, fingerprint = repo.state_cache_path(), repo.refs_fingerprint
    if path is None or fingerprint is None:
        return None
    from git_registry import statecache

    def rebuild() -> Registry:  # a segment edited by hand: build the state again
        return load(session, keep_rows=True).registry

    found = statecache.load(path, fingerprint, rebuild)
    if found is None:
        return None
    registry, count = found
    return Loaded(registry, frozenset(refs), tags_read=count)


def _save_state(session: Session, registry: Registry, count: int, lasting: bool) -> None:
    repo = session.repo()
    path, fingerprint = repo.state_cache_path(), repo.refs_fingerprint
    if path is None or fingerprint is None or not repo.may_write_caches():
        return
    from git_registry import statecache

    if statecache.cacheable(registry, lasting):
        statecache.save(path, fingerprint, registry, count)


def _known_artifacts(names: Iterable[str]) -> set[str]:
    """The artifacts named by at least one registry tag among ``names``.

    A registry tag's artifact is the part of its name before the first '@' or '#'
    (:func:`~git_registry.grammar.tag_artifact_prefix`): one name per artifact that
    parses is enough, so at most a few names per artifact are parsed.
    """
    known: set[str] = set()
    done: set[str] = set()
    for name in names:
        prefix = name.partition("@")[0].partition("#")[0]
        if prefix in done or prefix == name:
            continue
        parsed = parse_tag_name(name)
        if parsed is not None:
            known.add(parsed.artifact)
            done.add(prefix)
    return known


def head_annotations(
    session: Session, artifacts: Iterable[str]
) -> tuple[dict[str, Annotation], list[FileProblem]]:
    """Annotations at HEAD from the root ``artifacts.yaml`` and the files of ``artifacts``
    (looked up by path, not by walking the tree), and those files' problems."""
    from git_registry import annotations as ann

    head = session.repo().head()
    if head is None:
        return {}, []
    files = sorted({ann.FILENAME} | {ann.file_for(a)[0] for a in artifacts})
    found: dict[str, Annotation] = {}
    problems: list[FileProblem] = []
    for file in files:
        parsed = session.catalog().file_at(head, file)
        if parsed is not None:
            found.update(parsed.annotations)
            problems.extend(parsed.problems)
    return found, problems


def stage_names(session: Session, used: Sequence[str]) -> list[str]:
    """The stages the policy declares, then those in ``used``: the words a mistyped
    stage is compared with."""
    from git_registry.policy import ordered_stages

    return ordered_stages(session.catalog().policy(), used)


def declared_annotations(session: Session) -> tuple[dict[str, Annotation], list[str]]:
    """Annotations at HEAD from every ``artifacts.yaml`` there (one ``git ls-tree``, kept
    in the parse cache), and a warning for each of their problems: a file that could
    not be read at all is skipped, and its warnings say so (its artifacts are then
    known only from their tags)."""
    from git_registry import annotations as ann

    repo = session.repo()
    head = repo.head()
    if head is None:
        return {}, []
    found: dict[str, Annotation] = {}
    warnings: list[str] = []
    for file in sorted(repo.files_named(head, ann.FILENAME)):
        parsed = session.catalog().file_at(head, file)
        if parsed is None:
            continue
        found.update(parsed.annotations)
        for problem in parsed.problems:
            skipped = problem.artifact is None and not parsed.annotations
            warnings.append(f"{problem}{SKIPPED if skipped else ''}")
    return found, warnings


SKIPPED = " (file skipped: the artifacts it declares are shown only if they have tags)"


def warn_problems(session: Session, registry: Registry, artifact: str | None = None) -> None:
    """Each problem once on stderr as a warning (only those of ``artifact`` if given)."""
    for problem in registry.problems:
        if artifact is None or problem.artifact == artifact:
            session.warn(str(problem))


def record_fetch(session: Session, artifacts: Iterable[str] | None) -> None:
    """Note, in a shallow clone, that the registry tags of ``artifacts`` (None: all)
    were fetched, so reads stop warning that they may be missing."""
    repo = session.repo()
    if repo.is_shallow():
        repo.record_fetched(artifacts)


def warn_if_shallow(session: Session, artifacts: Sequence[str] | None) -> None:
    """In a shallow clone (a CI checkout) where ``git registry fetch`` has not fetched
    these artifacts' tags, say that answers may be incomplete, once per command."""
    if session.remotes or session.shallow_warned:
        return  # a --remote cache is shallow by design and always complete
    repo = session.repo()
    if not repo.is_shallow():
        return
    fetched = repo.fetched_artifacts()
    if "*" in fetched or (artifacts is not None and fetched.issuperset(artifacts)):
        return
    session.shallow_warned = True
    session.warn(
        "this is a shallow clone: registry tags that were not fetched are unknown here, "
        "so answers may be out of date and new counters or versions may clash with the "
        "remote's (run 'git registry fetch' first)"
    )


def events_of(registry: Registry, artifact: str | None) -> list[Event]:
    """Every accepted event of the registry (or of one artifact), oldest first."""
    if artifact is not None:
        return list(registry.events_of(artifact)) if artifact in registry.artifacts else []
    cached = getattr(registry.artifacts, "history", None)
    if cached is not None:  # a cached registry: in order already (statecache)
        history: list[Event] = cached()
        return history
    events = [e for name in registry.artifacts for e in registry.events_of(name)]
    events.sort(key=history_key)
    return events


def load_many(session: Session, artifacts: Iterable[str] | None) -> Loaded:
    """The registries of several ``--remote``s as one, artifacts named ``LABEL:NAME``.

    An artifact filter ``LABEL:NAME`` reads ``NAME`` from that remote only; a plain
    ``NAME`` is read from every remote.
    """
    from git_registry.remotecache import merge

    parts = []
    names: set[str] = set()
    for label, path in session.mirrors():
        wanted = None
        if artifacts is not None:
            wanted = []
            for artifact in artifacts:
                head, sep, rest = artifact.partition(":")
                if sep and head == label:
                    wanted.append(rest)
                elif not sep or head not in {lb for lb, _ in session.mirrors()}:
                    wanted.append(artifact)
        child = session.child()
        child.cache = path
        child.shallow_warned = True  # a cache is shallow by design and always complete
        try:
            loaded = load(child, wanted)
        finally:
            child.close()
        parts.append((label, loaded.registry))
        names.update(f"{label}:{n}" for n in loaded.tag_names)
    return Loaded(merge(parts), frozenset(names))


def gto_view(
    session: Session, artifacts: set[str] | None = None, *, whole: bool = False
) -> GtoView:
    """What GTO 1.10.1 reads besides the tags: HEAD, the artifacts its root
    ``artifacts.yaml`` declares (of ``artifacts``, or all), and commit times; with
    ``whole`` (``check``), also the artifacts that sub-folders' files declare (GTO reads
    none) and where ``.gto`` says otherwise than the policy we read."""
    from git_registry.annotations import FILENAME
    from git_registry.gtocompat import GtoView, settings_differences

    repo = session.repo()
    catalog = session.catalog()
    head = repo.head()
    declared: frozenset[str] = frozenset()
    elsewhere: set[str] = set()
    settings: tuple[str, ...] = ()
    if head is not None:
        parsed = catalog.file_at(head, FILENAME)
        if parsed is not None:
            names = set(parsed.annotations)
            declared = frozenset(names if artifacts is None else names & artifacts)
        for file in repo.files_named(head, FILENAME) if whole else []:
            found = catalog.file_at(head, file) if file != FILENAME else None
            if found is not None and not found.problems:  # a broken file: its errors first
                elsewhere.update(found.annotations)
        if whole:
            settings = settings_differences(*catalog.gto_settings(head), catalog.policy())
    return GtoView(
        head,
        declared,
        repo.commit_time,
        frozenset(elsewhere),
        catalog.gto_index_problem,
        settings,
    )

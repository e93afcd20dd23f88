"""The Registry-* trailers of a tag message (pure: trailers.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from git_registry import trailers
from git_registry.errors import UsageError
from git_registry.trailers import Metric, parse_meta_option, parse_metric_option, read

pytestmark = pytest.mark.core

keys = st.from_regex(trailers.KEY_RE, fullmatch=True)
numbers = st.floats(allow_nan=False, allow_infinity=False).map(repr)
values = (
    st.text(
        st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Cf")), min_size=1, max_size=60
    )
    .map(str.strip)
    .filter(bool)
)


@given(st.text())
def test_any_message_reads_without_crashing(message: str) -> None:
    found = read(message)
    assert all(isinstance(v, float) for v in (m.value for m in found.metrics.values()))


@given(st.dictionaries(keys, numbers, max_size=5), st.dictionaries(keys, values, max_size=5))
def test_written_trailers_read_back(metrics: dict[str, str], meta: dict[str, str]) -> None:
    meta = {k: v for k, v in meta.items() if k not in metrics}
    pairs = [parse_metric_option(f"{k}={v}") for k, v in metrics.items()]
    text = trailers.with_trailers("Subject line", pairs, list(meta.items()))
    found = read(text)
    assert found.problems == ()
    assert {k: m.text for k, m in found.metrics.items()} == metrics
    assert dict(found.meta) == meta


def test_metric_option() -> None:
    assert parse_metric_option("auc=0.91") == ("auc", Metric(0.91, "0.91"))
    assert parse_metric_option(" val.loss = -1.5E-3 ") == ("val.loss", Metric(-0.0015, "-1.5E-3"))
    for bad in ("auc", "auc=", "=1", "auc=abc", "auc=nan", "auc=-inf", "auc=1e400", "é=1"):
        with pytest.raises(UsageError):
            parse_metric_option(bad)
    assert parse_meta_option("dataset=s3://b/k?v=1") == ("dataset", "s3://b/k?v=1")


def test_only_a_last_trailer_block_after_a_subject_is_read() -> None:
    assert read("S\n\nRegistry-Metric: a=1\nSigned-off-by: x").metrics == {"a": Metric(1.0, "1")}
    assert read("Registry-Metric: a=1").metrics == {}
    assert read("S\n\nRegistry-Metric: a=1\nfree text").metrics == {}
    assert read("S\n\nREGISTRY-METRIC: a=1").metrics == {"a": Metric(1.0, "1")}


def test_reading_is_bounded() -> None:
    message = "S\n\n" + "\n".join(f"Registry-Metric: k{i}=1" for i in range(500))
    found = read(message)
    assert len(found.metrics) == trailers.MAX_TRAILERS
    assert found.problems == (
        f"more than {trailers.MAX_TRAILERS} Registry-* trailers: the rest are ignored",
    )

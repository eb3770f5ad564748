"""attn_lib.claims: bounded claims that print the same everywhere, and glue for prose."""

import json

import numpy as np
import pytest

from attn_lib import claims
from attn_lib.claims import claim, glue


def test_claim_prints_bounds_not_the_value(capsys):
    assert claim("accuracy", np.float32(0.9731), at_least=0.9) is None  # no Out[] to compare
    assert capsys.readouterr().out == "claim holds: accuracy >= 0.9\n"


def test_claim_with_both_bounds(capsys):
    claim("share", 0.5, at_least=0.25, at_most=0.75)
    assert capsys.readouterr().out == "claim holds: share >= 0.25 and <= 0.75\n"


@pytest.mark.parametrize("bounds", [{"at_least": 0.95}, {"at_most": 0.1},
                                    {"at_least": 0.0, "at_most": 0.5}])
def test_claim_outside_bounds_fails_and_names_the_value(bounds):
    with pytest.raises(AssertionError, match=r"claim fails: loss = 0\.6, expected"):
        claim("loss", 0.6, **bounds)


def test_claim_bounds_are_inclusive():
    claim("x", 1.0, at_least=1.0, at_most=1.0)


def test_claim_needs_a_bound():
    with pytest.raises(ValueError, match="needs `at_least`, `at_most` or both"):
        claim("x", 1.0)


def test_claim_rejects_reversed_bounds_nan_and_non_numbers():
    with pytest.raises(ValueError, match="`at_least` must not exceed `at_most`"):
        claim("x", 1.0, at_least=2, at_most=1)
    with pytest.raises(ValueError, match="`value` must not be NaN"):
        claim("x", float("nan"), at_least=0)
    with pytest.raises(TypeError, match="`value` must be a real number.*str"):
        claim("x", "0.9", at_least=0)
    with pytest.raises(TypeError, match="`value` must be a real number.*ndarray"):
        claim("x", np.array([0.9, 0.8]), at_least=0)
    with pytest.raises(TypeError, match="`at_most` must be a real number"):
        claim("x", 0.9, at_most=True)
    with pytest.raises(TypeError, match="`description` must be a non-empty string"):
        claim("", 0.9, at_least=0)


def test_claims_are_logged_for_the_robustness_benchmark(tmp_path, monkeypatch):
    log = tmp_path / "claims.jsonl"
    monkeypatch.setenv(claims.LOG_VARIABLE, str(log))
    claim("accuracy", 0.97, at_least=0.9)
    with pytest.raises(AssertionError):
        claim("loss", 0.5, at_most=0.1)
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert rows == [{"claim": "accuracy", "value": 0.97, "at_least": 0.9, "holds": True},
                    {"claim": "loss", "value": 0.5, "at_most": 0.1, "holds": False}]


def test_glue_writes_what_myst_nb_reads(monkeypatch):
    shown = []
    monkeypatch.setattr(claims, "display", lambda *a, **k: shown.append((a, k)))
    glue("ch99_accuracy", np.float32(0.5))
    (bundle,), options = shown[0]
    # myst-nb's glue: a prefixed mime type, the repr of a Python number, scrapbook metadata
    assert bundle == {"application/papermill.record/text/plain": "0.5"}
    assert options == {"raw": True, "metadata": {"scrapbook": {
        "name": "ch99_accuracy", "mime_prefix": "application/papermill.record/"}}}


def test_glue_rejects_bad_names_and_values():
    with pytest.raises(TypeError, match="`name` must be a non-empty string"):
        glue(3, 0.5)
    with pytest.raises(TypeError, match="`value` must be a real number"):
        glue("x", [0.5])

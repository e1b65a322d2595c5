"""nar's losses and scores against the reference CLRS ``losses`` / ``evaluation`` on every probe type
(tests/golden/losses.*, made by scripts/golden/make_golden.sh), degenerate targets included."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from nar.models.probe_types import METRIC_TYPES, TYPES, Ctx, probe_loss
from nar.specs import Location, Type

GOLDEN = Path(__file__).parent / "golden"
META = json.loads((GOLDEN / "losses.json").read_text())


@pytest.fixture(scope="module")
def data():
    with np.load(GOLDEN / "losses.npz") as z:
        return {k: z[k] for k in z.files}


def _inputs(case, data):
    """(probe type, raw, truth, loc_mask, lengths or None) in nar's batch-major layout."""
    meta = META["cases"][case]
    t, loc = Type(meta["type"]), Location(meta["location"])
    raw = torch.from_numpy(data[f"{case}/raw"])
    truth = torch.from_numpy(data[f"{case}/truth"])
    if t == Type.POINTER:
        truth = truth.long()
    n = META["sizes"]["nodes"]
    lengths = None
    if meta["stage"] == "hint":  # reference: time-major, truth at times 0..T-1, predictions of 1..T-1
        raw, truth = raw.transpose(0, 1), truth[1:].transpose(0, 1)
        lengths = torch.from_numpy(data["lengths"])
    ctx = Ctx(torch.ones(raw.shape[0], n, dtype=torch.bool))
    return TYPES[t], raw, truth, ctx.loc_mask(loc, timed=lengths is not None), lengths


def test_golden_covers_every_probe_type():
    seen = {(c["stage"], c["type"]) for c in META["cases"].values()}
    for stage in ("output", "hint"):
        for t in ("scalar", "mask", "mask_one", "categorical", "pointer", "permutation_pointer"):
            assert (stage, t) in seen


@pytest.mark.parametrize("case", sorted(META["cases"]))
def test_loss_matches_reference(case, data):
    ptype, raw, truth, loc_mask, lengths = _inputs(case, data)
    got = float(probe_loss(ptype, raw, truth, loc_mask, lengths))
    meta = META["cases"][case]
    if meta["loss_is_nan"]:  # documented deviation: 0 where CLRS divides 0 by 0
        assert got == 0.0
    else:
        assert got == pytest.approx(meta["loss"], rel=1e-12, abs=1e-12)


SCORED = sorted(k for k, v in META["cases"].items() if v["score"] is not None)


@pytest.mark.parametrize("case", SCORED)
def test_output_score_matches_reference(case, data):
    ptype, raw, truth, loc_mask, _ = _inputs(case, data)
    mt = METRIC_TYPES[ptype.type]
    stats = mt.metric_stats(ptype.hard(raw, loc_mask), truth, loc_mask)
    got = mt.metric_value(stats.reshape(-1, stats.shape[-1]).sum(0))
    assert got == pytest.approx(META["cases"][case]["score"], rel=1e-12, abs=1e-12)


def test_all_masked_mask_output_is_zero_not_nan_and_trains():
    """The reference's NaN would poison the total loss; nar's 0 leaves the other probes' gradients."""
    raw = torch.randn(3, 4, requires_grad=True)
    loss = probe_loss(TYPES[Type.MASK], raw, torch.full((3, 4), -1.0), torch.ones(3, 4, dtype=torch.bool))
    loss.backward()
    assert float(loss.detach()) == 0.0 and not math.isnan(float(raw.grad.abs().sum()))


def test_all_zero_rows_count_as_class_zero_in_accuracy():
    truth = torch.tensor([[[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])  # [B=1, N=2, C=3], first row all zero
    pred = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    mask = torch.ones(1, 2, dtype=torch.bool)
    cat = METRIC_TYPES[Type.CATEGORICAL]
    assert cat.metric_value(cat.metric_stats(pred, truth, mask).reshape(-1, 2).sum(0)) == 1.0
    pred2 = torch.tensor([[[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]])
    assert cat.metric_value(cat.metric_stats(pred2, truth, mask).reshape(-1, 2).sum(0)) == 0.5


def test_mask_one_hint_counts_all_zero_rows_but_output_does_not():
    ptype = TYPES[Type.MASK_ONE]
    raw = torch.zeros(2, 1, 3)  # uniform logits: each counted row costs log 3
    truth = torch.tensor([[[0.0, 1.0, 0.0]], [[0.0, 0.0, 0.0]]])  # [B, S=1, N]; sample 1 all zero
    mask = Ctx(torch.ones(2, 3, dtype=torch.bool)).loc_mask(Location.NODE, timed=True)
    hint = probe_loss(ptype, raw, truth, mask, torch.tensor([2, 2]))
    assert float(hint) == pytest.approx(math.log(3) / 2)
    out = probe_loss(ptype, raw[:, 0], truth[:, 0], mask[:, 0])
    assert float(out) == pytest.approx(math.log(3))

"""nar's default initialisation is the reference's (Haiku) in distribution (tests/golden/init.json):
``TruncatedNormal(stddev=1/sqrt(fan_in))`` truncated at 2 std and *not* rescaled, zero biases, and the
``xavier_on_scalars`` encoders of scalar hints (std ``1/sqrt(hidden)`` before truncation)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from nar.models import Reasoner, model_spec
from nar.models.heads import AlgorithmHeads
from nar.models.layers import linear, trunc_normal_

GOLDEN = json.loads((Path(__file__).parent / "golden" / "init.json").read_text())
TRUNC = GOLDEN["truncated_std_factor"]


def _moments(w: torch.Tensor) -> tuple[float, float, float]:
    w = w.detach().double().flatten()
    return float(w.mean()), float(w.std()), float(w.abs().max())


def test_reference_sample_matches_its_analytic_moments():
    for key in ("linear", "xavier_on_scalars"):
        g = GOLDEN[key]
        assert g["std"] == pytest.approx(g["analytic_std"], rel=0.01)
        assert g["max_abs"] <= g["bound"]


def test_linear_default_init_matches_reference():
    g = GOLDEN["linear"]
    torch.manual_seed(0)
    layer = linear(g["fan_in"], g["fan_out"])
    mean, std, mx = _moments(layer.weight)
    n = layer.weight.numel()
    assert abs(mean) < 5 * g["analytic_std"] / math.sqrt(n)
    assert std == pytest.approx(g["analytic_std"], rel=0.005)  # the old (rescaled) init was 1.137x wider
    assert std == pytest.approx(g["std"], rel=0.005)  # and the reference's own sample
    assert mx <= g["bound"] * (1 + 1e-6)
    assert float(layer.bias.detach().abs().max()) == g["bias_max_abs"] == 0.0


def test_rescaled_option_keeps_the_old_width():
    torch.manual_seed(0)
    w = trunc_normal_(torch.empty(512, 512), 0.1, rescaled=True)
    assert float(w.std()) == pytest.approx(0.1, rel=0.01)
    assert float(w.abs().max()) <= 0.2 / TRUNC * (1 + 1e-6)


def test_reasoner_layers_follow_the_reference_init():
    torch.manual_seed(0)
    model = Reasoner("bfs", hidden=128)
    w = model.processor.m1.weight  # fan_in 2 * hidden
    _, std, mx = _moments(w)
    assert std == pytest.approx(TRUNC / math.sqrt(256), rel=0.02)
    assert mx <= 2 / math.sqrt(256) * (1 + 1e-6)
    assert bool((model.processor.g3.bias == -3.0).all())  # CLRS gate bias -3
    for name, p in model.named_parameters():
        if name.endswith("bias") and "g3" not in name and "ln" not in name:
            assert not bool(p.any()), name


def test_xavier_on_scalars_encoder_matches_reference():
    g = GOLDEN["xavier_on_scalars"]
    torch.manual_seed(0)
    hidden = 4096  # one scalar hint encoder of this width gives 4096 samples of the distribution
    heads = AlgorithmHeads(model_spec("dijkstra"), hidden, encode_hints=True, decode_hints=False,
                           node_dim=4, edge_dim=4)
    _, std, mx = _moments(heads.encoders["d"].lin.weight)
    assert std == pytest.approx(TRUNC / math.sqrt(hidden), rel=0.04)
    assert mx <= 2 / math.sqrt(hidden) * (1 + 1e-6)
    # an input scalar encoder (fan_in 1) keeps the default LeCun init: std 0.88, |w| <= 2
    _, std_in, mx_in = _moments(heads.encoders["A"].lin.weight)
    assert std_in == pytest.approx(TRUNC, rel=0.04) and mx_in <= 2.0 * (1 + 1e-6)
    assert g["analytic_std"] == pytest.approx(TRUNC / math.sqrt(g["hidden"]))

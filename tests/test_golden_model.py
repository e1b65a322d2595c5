"""A whole nar Reasoner forward pass against the reference ``nets.Net`` (tests/golden/model.*): bfs with
triplet_gmpnn, the reference's weights copied in by ``load_clrs_params``, evaluation mode (own soft hints fed back)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from nar.data.batch import Batch
from nar.models import Reasoner
from nar.models.reference import load_clrs_params

GOLDEN = Path(__file__).parent / "golden"
META = json.loads((GOLDEN / "model.json").read_text())


@pytest.fixture(scope="module")
def g():
    with np.load(GOLDEN / "model.npz") as z:
        return {k: torch.from_numpy(z[k]) for k in z.files}


def params(g: dict) -> dict:
    """The reference's parameters in its Haiku layout ``{module: {leaf: array}}``."""
    out: dict = {}
    for key, v in g.items():
        if key.startswith("param/"):
            module, leaf = key[len("param/"):].rsplit("/", 1)
            out.setdefault(module, {})[leaf] = v.numpy()
    return out


def batch(g: dict) -> Batch:
    lengths = g["lengths"].long()
    b, n = g["data/pos"].shape
    t = int(lengths.max())
    hints = {k: g[f"data/{k}"].transpose(0, 1) for k in ("reach_h", "pi_h")}
    hints["pi_h"] = hints["pi_h"].long()
    return Batch(
        algorithm=META["algorithm"],
        inputs={k: g[f"data/{k}"].float() for k in ("pos", "s", "A", "adj")},
        hints={k: v if v.dtype == torch.long else v.float() for k, v in hints.items()},
        outputs={"pi": g["data/pi"].long()}, lengths=lengths, n_nodes=torch.full((b,), n),
        node_mask=torch.ones(b, n, dtype=torch.bool), edge_mask=torch.ones(b, n, n, dtype=torch.bool),
        time_mask=torch.arange(t)[None, :] < lengths[:, None])


def test_forward_pass_matches_reference(g):
    torch.manual_seed(0)
    model = Reasoner(META["algorithm"], META["processor"], hidden=META["hidden"],
                     nb_triplet_fts=META["nb_triplet_fts"])
    load_clrs_params(model, params(g))
    model.eval()
    with torch.no_grad():
        out = model(batch(g))
    lengths = g["lengths"].long()
    # outputs: pointer logits up to a constant (the reference's score bias) -> compare log-softmax
    ref = torch.log_softmax(g["pred/output/pi"], -1)
    assert float((torch.log_softmax(out.outputs["pi"].double(), -1) - ref).abs().max()) < 1e-4
    # hints: step i predicts time i + 1; only steps with i + 1 < length are computed for a sample
    for k, raw in out.hints.items():
        ref = g[f"pred/hint/{k}"].transpose(0, 1)  # [B, S, ...]
        if k == "pi_h":
            ref, raw = torch.log_softmax(ref, -1), torch.log_softmax(raw.double(), -1)
        for b in range(len(lengths)):
            live = int(lengths[b]) - 1
            assert float((raw[b, :live].double() - ref[b, :live]).abs().max()) < 1e-4, (k, b)

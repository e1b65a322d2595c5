"""nar's processors against the reference CLRS processors (tests/golden/processors.*, made by
scripts/golden/make_golden.sh): the reference's weights copied in through the recorded name mapping."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from nar.models.layers import EdgeFeatures
from nar.models.processors import build_processor

GOLDEN = Path(__file__).parent / "golden"
META = json.loads((GOLDEN / "processors.json").read_text())
SIZES = META["sizes"]


@pytest.fixture(scope="module")
def data():
    with np.load(GOLDEN / "processors.npz") as z:
        return {k: z[k] for k in z.files}


def load_reference(case: str, data: dict, dtype=torch.float64):
    """A nar processor holding the reference's weights of ``case`` (every nar parameter set exactly once)."""
    meta = META["cases"][case]
    proc = build_processor(meta["processor"], SIZES["hidden"], use_ln=meta["use_ln"],
                           nb_triplet_fts=SIZES["nb_triplet_fts"], nb_heads=SIZES["nb_heads"]).to(dtype)
    state = proc.state_dict()
    filled: dict[str, set] = {}
    for ref_name, (name, op, index) in meta["mapping"].items():
        v = torch.from_numpy(data[f"{case}/param/{ref_name}"]).to(dtype)
        if op == "T":
            state[name] = v.T.contiguous()
        elif op == "=":
            state[name] = v
        else:  # "row": one head's Linear(., 1) into row `index`
            state[name][index] = v.reshape(state[name][index].shape)
        filled.setdefault(name, set()).add(index)
    assert set(filled) == set(state), f"unmapped nar parameters: {set(state) - set(filled)}"
    for name, rows in filled.items():
        assert rows == {None} or rows == set(range(state[name].shape[0])), name
    proc.load_state_dict(state)
    return proc


def run(proc, data, dtype=torch.float64, pad: int = 0):
    """The processor on the recorded inputs (``pad`` extra padded nodes filled with garbage)."""
    t = {k: torch.from_numpy(data[k]).to(dtype) for k in ("node", "edge", "graph", "hidden", "adj")}
    b, n, h = t["node"].shape
    m = n + pad
    node, hidden = torch.randn(b, m, h, dtype=dtype), torch.randn(b, m, h, dtype=dtype)
    edge, adj = torch.randn(b, m, m, h, dtype=dtype), torch.ones(b, m, m, dtype=torch.bool)
    node[:, :n], hidden[:, :n], edge[:, :n, :n], adj[:, :n, :n] = t["node"], t["hidden"], t["edge"], t["adj"] > 0.5
    mask = torch.arange(m)[None, :].expand(b, m) < n
    e = EdgeFeatures(edge, torch.eye(h, dtype=dtype), torch.zeros(h, dtype=dtype))
    with torch.no_grad():
        out, tri = proc(node, e, t["graph"], adj, hidden, mask)
    return out[:, :n], None if tri is None else tri[:, :n, :n]


def max_diffs(case, data, dtype=torch.float64, pad=0):
    out, tri = run(load_reference(case, data, dtype), data, dtype, pad)
    d_out = float((out.double() - torch.from_numpy(data[f"{case}/out"])).abs().max())
    d_tri = None
    if META["cases"][case]["has_tri"]:
        d_tri = float((tri.double() - torch.from_numpy(data[f"{case}/tri"])).abs().max())
    else:
        assert tri is None
    return d_out, d_tri


def test_golden_covers_every_shared_processor():
    kinds = {c["processor"] for c in META["cases"].values()}
    assert kinds == {"deepsets", "gat", "gatv2", "mpnn", "pgn", "triplet_mpnn", "triplet_gmpnn",
                     "gmpnn", "gpgn", "triplet_pgn", "triplet_gpgn", "gat_full", "gatv2_full",
                     "pgn_mask", "gpgn_mask", "triplet_pgn_mask", "triplet_gpgn_mask"}
    assert {c["use_ln"] for c in META["cases"].values()} == {False, True}


@pytest.mark.parametrize("case", sorted(META["cases"]))
def test_processor_matches_reference_float64(case, data):
    d_out, d_tri = max_diffs(case, data)
    assert d_out < 1e-12
    assert d_tri is None or d_tri < 1e-12


def test_golden_names_are_the_registered_processors():
    """Every golden case builds the nar processor of the same name (no aliasing to a near relative),
    with the reference's decoder flags."""
    for case, meta in META["cases"].items():
        proc = build_processor(meta["processor"], SIZES["hidden"])
        assert proc.name == meta["processor"], case
        assert (proc.inf_bias, proc.inf_bias_edge) == (meta["inf_bias"], meta["inf_bias_edge"]), case


@pytest.mark.parametrize("case", ["triplet_gmpnn_ln", "gatv2_ln", "pgn", "gmpnn_ln", "gpgn", "triplet_pgn_ln",
                                  "triplet_gpgn", "gat_full_ln", "gatv2_full", "gpgn_mask_ln",
                                  "triplet_gpgn_mask"])
def test_processor_matches_reference_float32(case, data):
    d_out, d_tri = max_diffs(case, data, torch.float32)
    assert d_out < 1e-5
    assert d_tri is None or d_tri < 1e-5


@pytest.mark.parametrize("case", ["triplet_gmpnn_ln", "gat", "deepsets", "pgn_ln", "triplet_gpgn_ln", "gat_full",
                                  "gatv2_full_ln", "gmpnn", "pgn_mask", "triplet_pgn_mask_ln"])
def test_padding_does_not_change_real_nodes(case, data):
    """nar pads graphs in a batch; the real nodes' outputs must still be the reference's."""
    d_out, d_tri = max_diffs(case, data, pad=3)
    assert d_out < 1e-12
    assert d_tri is None or d_tri < 1e-12


@pytest.mark.parametrize("pad", [0, 2])
def test_inf_bias_matches_the_reference_decoders(data, pad):
    """The ``*_mask`` variants' decoder masking, through the probe types' ``finish`` as the decoders use it,
    against the reference's node-pointer and edge-mask decoders; padded nodes (garbage logits) change
    nothing on the real ones."""
    from nar.models.probe_types import Ctx, probe_type
    from nar.specs import Location, Type
    logits, adj = torch.from_numpy(data["inf_bias/logits"]), torch.from_numpy(data["adj"]) > 0.5
    b, n, _ = logits.shape
    m = n + pad
    big, badj = 100 * torch.randn(b, m, m, dtype=torch.float64) - 50, torch.ones(b, m, m, dtype=torch.bool)
    big[:, :n, :n], badj[:, :n, :n] = logits, adj
    mask = torch.arange(m)[None, :].expand(b, m) < n
    ctx = Ctx(mask, adj=badj, inf_bias=True, inf_bias_edge=True)
    for key, t, loc in (("inf_bias/node_pointer", Type.POINTER, Location.NODE),
                        ("inf_bias/edge_mask", Type.MASK, Location.EDGE),
                        ("inf_bias/edge_mask_one", Type.MASK_ONE, Location.EDGE)):
        got = probe_type(t).finish(big.clone(), loc, ctx)[:, :n, :n]
        assert float((got - torch.from_numpy(data[key])).abs().max()) < 1e-12, key
        # without the flags nothing changes
        plain = probe_type(t).finish(big.clone(), loc, Ctx(mask, adj=badj))[:, :n, :n]
        assert torch.equal(plain, logits), key
    # a permutation pointer is biased before the Sinkhorn iterations (evaluation: no noise)
    got = probe_type(Type.PERMUTATION_POINTER).finish(big.clone(), Location.NODE, ctx)[:, :n, :n]
    assert float((got - torch.from_numpy(data["inf_bias/permutation_pointer"])).abs().max()) < 1e-9
    # only one flag at a time: inf_bias leaves edge masks alone, inf_bias_edge node pointers
    node_only, edge_only = Ctx(mask, adj=badj, inf_bias=True), Ctx(mask, adj=badj, inf_bias_edge=True)
    assert torch.equal(probe_type(Type.MASK).finish(big.clone(), Location.EDGE, node_only)[:, :n, :n], logits)
    assert torch.equal(probe_type(Type.POINTER).finish(big.clone(), Location.NODE, edge_only)[:, :n, :n], logits)


def test_inf_bias_without_the_graph_is_refused():
    from nar.models.probe_types import Ctx, probe_type
    from nar.specs import Location, Type
    with pytest.raises(ValueError, match="adj"):
        probe_type(Type.POINTER).finish(torch.zeros(1, 3, 3), Location.NODE,
                                        Ctx(torch.ones(1, 3, dtype=torch.bool), inf_bias=True))


def test_reference_layout_agrees_with_every_golden_case():
    """``nar.models.reference.PROCESSOR_LAYOUT`` (used by ``load_clrs_params``) numbers each processor's
    Haiku linears as the golden mapping, which the reference itself produced."""
    import re

    from nar.models.reference import PROCESSOR_LAYOUT
    for case, meta in META["cases"].items():
        mod, order = PROCESSOR_LAYOUT[meta["processor"]]
        for ref_name, (name, _op, _index) in meta["mapping"].items():
            assert ref_name.startswith(mod + "/"), case
            m = re.fullmatch(r".*/linear(?:_(\d+))?/w", ref_name)
            if m and "mlp/" not in ref_name:
                k = int(m.group(1) or 0)
                assert name == (f"{order[k]}.weight" if k < len(order) else "att"), (case, ref_name)

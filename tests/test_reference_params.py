"""nar.models.reference: the reference CLRS parameter layout <-> a Reasoner (round trips, layout, errors)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from nar.models import Reasoner
from nar.models.reference import (PROCESSOR_LAYOUT, ReferenceParamsError, clrs_params, load_clrs_params,
                                  no_effect_params)
from nar.specs import SPECS
from nar.validation import InputError

GOLDEN = Path(__file__).parent / "golden"


def _model(alg="bfs", processor="triplet_gmpnn", seed=0, **kw):
    torch.manual_seed(seed)
    return Reasoner(alg, processor, hidden=kw.pop("hidden", 4), nb_triplet_fts=2, **kw)


def _same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


def test_round_trip_every_algorithm():
    """nar -> reference layout -> nar is exact for every CLRS-30 algorithm (every encoder/decoder kind)."""
    for alg in sorted(SPECS):
        a, b = _model(alg, seed=0), _model(alg, seed=1)
        load_clrs_params(b, clrs_params(a))
        _same_state(a, b)


@pytest.mark.parametrize("processor", sorted(PROCESSOR_LAYOUT))
def test_round_trip_every_processor(processor):
    a = _model("floyd_warshall", processor, seed=0, nb_heads=2)
    b = _model("floyd_warshall", processor, seed=1, nb_heads=2)
    load_clrs_params(b, clrs_params(a))
    _same_state(a, b)


def test_multi_task_numbers_algorithms_in_order():
    m = _model(["bfs", "insertion_sort"])
    names = set(clrs_params(m))
    assert "net/~_construct_encoders_decoders/algo_1_key_enc_linear" in names
    assert "net/~_construct_encoders_decoders/algo_0_reach_h_dec_linear" in names


def _golden_params():
    out: dict = {}
    with np.load(GOLDEN / "model.npz") as z:
        for key in z.files:
            if key.startswith("param/"):
                module, leaf = key[len("param/"):].rsplit("/", 1)
                out.setdefault(module, {})[leaf] = z[key]
    return out


def test_reference_round_trip_keeps_all_but_the_no_effect_biases():
    meta = json.loads((GOLDEN / "model.json").read_text())
    ref = _golden_params()
    m = Reasoner(meta["algorithm"], meta["processor"], hidden=meta["hidden"], nb_triplet_fts=meta["nb_triplet_fts"])
    load_clrs_params(m, ref)
    back = clrs_params(m)
    assert back.keys() == ref.keys()
    zeroed = []
    for mod, leaves in ref.items():
        assert back[mod].keys() == leaves.keys()
        for leaf, v in leaves.items():
            if not np.allclose(back[mod][leaf], v.astype(np.float32), rtol=0, atol=0):
                assert not back[mod][leaf].any(), (mod, leaf)  # only dropped parameters differ, exported as 0
                zeroed.append(f"{mod.rsplit('/', 1)[1]}/{leaf}")
    # the pointer decoders' score biases (constant over the softmax): nar has none
    assert sorted(zeroed) == ["algo_0_pi_dec_linear_3/b", "algo_0_pi_h_dec_linear_3/b"]
    assert sorted(x.rsplit("/", 2)[1] + "/b" for x in no_effect_params(m)) == sorted(zeroed)


def test_processor_layout_matches_the_golden_mapping():
    cases = json.loads((GOLDEN / "processors.json").read_text())
    sizes = cases["sizes"]
    assert {c["processor"] for c in cases["cases"].values()} == set(PROCESSOR_LAYOUT)
    for case, meta in cases["cases"].items():
        torch.manual_seed(0)
        m = Reasoner("bfs", meta["processor"], hidden=sizes["hidden"], nb_triplet_fts=sizes["nb_triplet_fts"],
                     nb_heads=sizes["nb_heads"], use_ln=meta["use_ln"])
        ours = {f"{mod[len('net/'):]}/{leaf}" for mod, leaves in clrs_params(m).items()
                for leaf in leaves if "_clrs_processor" in mod}
        assert ours == set(meta["mapping"]), case
        # and each one lands where the golden mapping says: load random values, compare nar's parameters
        rng = np.random.default_rng(0)
        params = clrs_params(m)
        for mod, leaves in params.items():
            for leaf in leaves:
                leaves[leaf] = rng.normal(size=leaves[leaf].shape).astype(np.float32)
        load_clrs_params(m, params)
        state = m.state_dict()
        for key, (name, op, index) in meta["mapping"].items():
            mod, leaf = ("net/" + key).rsplit("/", 1)
            v = torch.from_numpy(params[mod][leaf])
            t = state["processor." + name]
            got = t.T if op == "T" else t if op == "=" else t[index]
            assert torch.equal(got, v.reshape(got.shape)), (case, key)


def test_errors_name_what_is_wrong():
    m = _model()
    good = clrs_params(m)
    missing = {k: dict(v) for k, v in good.items()}
    del missing["net/mpnn_aggr_clrs_processor/linear_3"]["w"]
    with pytest.raises(ReferenceParamsError, match=r"missing: net/mpnn_aggr_clrs_processor/linear_3/w"):
        load_clrs_params(m, missing)
    extra = {**good, "net/processor_lstm/linear": {"w": np.zeros((2, 2))}}
    with pytest.raises(ReferenceParamsError, match=r"unexpected: net/processor_lstm/linear/w"):
        load_clrs_params(m, extra)
    shaped = {k: dict(v) for k, v in good.items()}
    shaped["net/mpnn_aggr_clrs_processor/layer_norm"]["scale"] = np.ones(5)
    with pytest.raises(ReferenceParamsError, match=r"layer_norm/scale \(5,\) \(expected \(4,\)\)"):
        load_clrs_params(m, shaped)
    with pytest.raises(ReferenceParamsError, match="must be a mapping"):
        load_clrs_params(m, [1, 2])
    with pytest.raises(ReferenceParamsError, match="must be a mapping"):
        load_clrs_params(m, {"net/x": 3})
    assert issubclass(ReferenceParamsError, InputError)
    # a failed load leaves the model untouched
    before = {k: v.clone() for k, v in m.state_dict().items()}
    with pytest.raises(ReferenceParamsError):
        load_clrs_params(m, shaped)
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())


def test_architectures_without_a_reference_counterpart():
    for name in ("memnet", "memnet_masked", "memnet_full"):  # differ from the reference's by design
        with pytest.raises(ReferenceParamsError, match=f"processor '{name}'"):
            clrs_params(_model(processor=name))
    with pytest.raises(ReferenceParamsError, match="termination"):
        clrs_params(_model(termination=True))

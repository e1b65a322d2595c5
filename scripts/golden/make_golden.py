"""Write tests/golden/*: outputs of the reference CLRS models (``dm-clrs``, JAX/Haiku) on fixed inputs.

Run through ``scripts/golden/make_golden.sh``, which builds a throwaway virtual environment outside the
repository with the reference installed; nar never depends on the reference, and its tests only read
the files written here.  Everything is computed in float64 (``jax_enable_x64``).

Files (all small):

* ``processors.npz`` + ``processors.json`` -- for every processor both libraries have (names from the
  reference's ``get_processor_factory``), with and without layer norm: fixed inputs, parameters in the
  reference's layout (``<case>/param/<haiku module>/<name>``) and its outputs; the json maps each Haiku
  parameter to nar's (``[nar name, op, index]``: op ``T`` transpose, ``=`` copy, ``row`` into row ``index``).
* ``losses.npz`` + ``losses.json`` -- raw predictions and targets for every (stage, location, type),
  the reference's loss (``losses.output_loss`` / ``losses.hint_loss``) and output score
  (``decoders.postprocess(hard=True)`` then ``evaluation``), degenerate targets included.
* ``permutation.npz`` -- permutation-pointer decoding: decoder Sinkhorn (train: Gumbel noise from a
  recorded uniform draw; eval: none), the evaluation post-processing (50 more steps, argmax) and the
  soft hint feedback (25 steps).
* ``model.npz`` + ``model.json`` -- one whole forward pass of the reference ``nets.Net`` (encoders,
  triplet_gmpnn steps, decoders, soft hint feedback) at evaluation on a two-sample bfs batch, with its
  (randomised) parameters.
* ``init.json`` -- sample moments of the reference's default ``hk.Linear`` init and of the
  ``xavier_on_scalars`` encoder init, with their analytic values.

Usage (inside the throwaway venv): ``python scripts/golden/make_golden.py tests/golden [--only processors ...]``
(``--only``: regenerate only the named parts: processors, losses, permutation, model, init).
"""
from __future__ import annotations

import json
import os
import re
import sys

import numpy as np

from reference_env import import_reference  # noqa: E402  (this folder is on sys.path)

import_reference()

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import haiku as hk  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from clrs._src import decoders, evaluation, losses, probing, processors, specs  # noqa: E402

B, N, H, F, HEADS = 2, 5, 8, 4, 2  # processor fixtures: batch, nodes, width, triplet features, GAT heads

# processor name -> (nar attribute per top-level Haiku linear, in creation order)
_PGN_BASE = ["m1", "m2", "me", "mg", "o1", "o2"]
_TRIPLETS = ["t1", "t2", "t3", "te1", "te2", "te3", "tg", "o3"]
_GATES = ["g1", "g2", "g3"]
PROCESSORS = {
    "deepsets": ("mpnn_aggr", _PGN_BASE),
    "mpnn": ("mpnn_aggr", _PGN_BASE),
    "pgn": ("mpnn_aggr", _PGN_BASE),
    "triplet_mpnn": ("mpnn_aggr", _PGN_BASE + _TRIPLETS),
    "triplet_gmpnn": ("mpnn_aggr", _PGN_BASE + _TRIPLETS + _GATES),
    "gat": ("gat_aggr", ["values", "skip", "a1", "a2", "ae", "ag"]),
    "gatv2": ("gatv2_aggr", ["values", "skip", "w1", "w2", "we", "wg"]),
    # the remaining variants (appended, so that the random draws of the cases above stay the same)
    "gmpnn": ("mpnn_aggr", _PGN_BASE + _GATES),
    "gpgn": ("mpnn_aggr", _PGN_BASE + _GATES),
    "triplet_pgn": ("mpnn_aggr", _PGN_BASE + _TRIPLETS),
    "triplet_gpgn": ("mpnn_aggr", _PGN_BASE + _TRIPLETS + _GATES),
    "gat_full": ("gat_aggr", ["values", "skip", "a1", "a2", "ae", "ag"]),
    "gatv2_full": ("gatv2_aggr", ["values", "skip", "w1", "w2", "we", "wg"]),
}
# the *_mask variants (CLRS PGNMask): the same step as their base, the decoders' inf_bias flags set.
# Drawn after the inf_bias decoder fixtures, so that every array above keeps its values.
MASKED = {
    "pgn_mask": ("mpnn_aggr", _PGN_BASE),
    "gpgn_mask": ("mpnn_aggr", _PGN_BASE + _GATES),
    "triplet_pgn_mask": ("mpnn_aggr", _PGN_BASE + _TRIPLETS),
    "triplet_gpgn_mask": ("mpnn_aggr", _PGN_BASE + _TRIPLETS + _GATES),
}
# processors that nar has but whose CLRS namesakes differ by design (documented in nar): memnet,
# memnet_masked, memnet_full.


def _mapping(kind: str, module_names) -> dict[str, list]:
    """Haiku parameter -> nar parameter.  Top-level linears are numbered in creation order
    (``linear``, ``linear_1``, ...); the message MLP's are ``mlp/~/linear_k``.  The module prefix depends
    on the Haiku version, so only the trailing components are matched."""
    order = {**PROCESSORS, **MASKED}[kind][1]
    m: dict[str, list] = {}
    for mod in module_names:
        tail = mod.rsplit("/", 1)[-1]
        if "mlp/" in mod:
            nar = ["mlp1", "mlp2"][int(tail.split("_")[1])]
        elif tail == "layer_norm":
            m[f"{mod}/scale"] = ["ln.weight", "=", None]
            m[f"{mod}/offset"] = ["ln.bias", "=", None]
            continue
        elif re.fullmatch(r"linear(_\d+)?", tail):
            k = 0 if tail == "linear" else int(tail.split("_")[1])
            if k >= len(order) and not kind.startswith("gatv2"):
                raise SystemExit(f"{kind}: more linears than expected ({mod!r})")
            if k >= len(order):  # GATv2: one Linear(1) per head after the others
                head = k - len(order)
                m[f"{mod}/w"] = ["att", "row", head]
                m[f"{mod}/b"] = ["att_bias", "row", head]
                continue
            nar = order[k]
        else:
            raise SystemExit(f"{kind}: unexpected Haiku module {mod!r}")
        m[f"{mod}/w"] = [f"{nar}.weight", "T", None]
        m[f"{mod}/b"] = [f"{nar}.bias", "=", None]
    return m


def _randomise(params, rng):
    """Replace Haiku's init (zero biases, unit LN scales would hide mapping mistakes) by random values."""
    out = {}
    for mod, leaves in params.items():
        out[mod] = {}
        for name, v in leaves.items():
            v = np.asarray(v)
            if name == "w":
                new = rng.normal(size=v.shape) / np.sqrt(v.shape[0])
            elif name == "scale":
                new = 1.0 + 0.3 * rng.normal(size=v.shape)
            else:
                new = 0.3 * rng.normal(size=v.shape)
            out[mod][name] = jnp.asarray(new, dtype=jnp.float64)
    return out


def _flags(kind: str, use_ln: bool) -> dict:
    """The reference processor's ``inf_bias`` / ``inf_bias_edge`` (read inside a Haiku transform)."""
    factory = processors.get_processor_factory(kind, use_ln=use_ln, nb_triplet_fts=F, nb_heads=HEADS)
    flags = {}

    def read():
        p = factory(H)
        flags.update(inf_bias=bool(p.inf_bias), inf_bias_edge=bool(p.inf_bias_edge))

    hk.transform(read).init(None)
    return flags


def processors_golden(out_dir: str) -> None:
    rng = np.random.default_rng(0)
    node = rng.normal(size=(B, N, H))
    edge = rng.normal(size=(B, N, N, H))
    graph = rng.normal(size=(B, H))
    hidden = rng.normal(size=(B, N, H))
    adj = ((rng.random((B, N, N)) < 0.35) | np.eye(N, dtype=bool)).astype(np.float64)
    arrays = {"node": node, "edge": edge, "graph": graph, "hidden": hidden, "adj": adj}
    meta = {"sizes": {"batch": B, "nodes": N, "hidden": H, "nb_triplet_fts": F, "nb_heads": HEADS},
            "cases": {}}

    def cases(kinds):
        for kind in kinds:
            for use_ln in (False, True):
                case = kind + ("_ln" if use_ln else "")
                factory = processors.get_processor_factory(kind, use_ln=use_ln, nb_triplet_fts=F, nb_heads=HEADS)
                net = hk.transform(lambda *a, _f=factory: _f(H)(*a))
                params = net.init(jax.random.PRNGKey(1), node, edge, graph, adj, hidden)
                params = _randomise(params, rng)
                mapping = _mapping(kind, list(params))
                names = {f"{mod}/{n}" for mod, leaves in params.items() for n in leaves}
                if names != set(mapping):
                    raise SystemExit(f"{case}: parameter names {sorted(names)} != mapping {sorted(mapping)}")
                out, tri = net.apply(params, None, node, edge, graph, adj, hidden)
                for mod, leaves in params.items():
                    for n, v in leaves.items():
                        arrays[f"{case}/param/{mod}/{n}"] = np.asarray(v)
                arrays[f"{case}/out"] = np.asarray(out)
                if tri is not None:
                    arrays[f"{case}/tri"] = np.asarray(tri)
                meta["cases"][case] = {"processor": kind, "use_ln": use_ln, "mapping": mapping,
                                       "has_tri": tri is not None}
                meta["cases"][case].update(_flags(kind, use_ln))

    cases(PROCESSORS)
    # the *_mask variants' decoder masking (inf_bias): the reference's own decoder functions on logits
    # passed straight through (identity decoders), node pointers and edge masks, adj from above
    logits = rng.normal(size=(B, N, N))
    zero = lambda _x: jnp.zeros((B, N, 1))  # noqa: E731
    # node pointer: preds = L4(max(L1 h, transpose(L2 h + L3 e))) = logits with L1 = -1e9, L2 = 0
    node_dec = [lambda _h: jnp.full((B, N, 1), -1e9), zero,
                lambda _e: jnp.asarray(logits).transpose(0, 2, 1)[..., None], lambda p: p]
    arrays["inf_bias/logits"] = logits
    arrays["inf_bias/node_pointer"] = np.asarray(decoders._decode_node_fts(  # pylint: disable=protected-access
        node_dec, _T.POINTER, None, None, jnp.asarray(adj), True, True))
    arrays["inf_bias/edge_mask"] = np.asarray(decoders._decode_edge_fts(  # pylint: disable=protected-access
        [zero, zero, lambda e: e], _T.MASK, None, jnp.asarray(logits)[..., None], jnp.asarray(adj), True))
    # the same logits as an edge mask_one and a permutation pointer (decoder at evaluation: no noise)
    arrays["inf_bias/edge_mask_one"] = np.asarray(decoders._decode_edge_fts(  # pylint: disable=protected-access
        [zero, zero, lambda e: e], _T.MASK_ONE, None, jnp.asarray(logits)[..., None], jnp.asarray(adj), True))
    arrays["inf_bias/permutation_pointer"] = np.asarray(decoders._decode_node_fts(  # pylint: disable=protected-access
        node_dec, _T.PERMUTATION_POINTER, None, None, jnp.asarray(adj), True, True))
    cases(MASKED)
    np.savez_compressed(os.path.join(out_dir, "processors.npz"), **arrays)
    with open(os.path.join(out_dir, "processors.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)


# ---------------------------------------------------------------------------------------------
# losses and scores
# ---------------------------------------------------------------------------------------------
LB, LN_, LC, LT = 4, 5, 3, 4  # batch, nodes, classes, hint steps (T + 1 time points)
_T = specs.Type
_L = specs.Location


def _loc_shape(loc):
    return {_L.NODE: (LN_,), _L.EDGE: (LN_, LN_), _L.GRAPH: ()}[loc]


def _truth(t, loc, lead, rng, degenerate):
    shape = lead + _loc_shape(loc)
    if t == _T.SCALAR:
        return rng.normal(size=shape)
    if t == _T.MASK:
        x = (rng.random(shape) < 0.4).astype(np.float64)
        if degenerate == "all_masked":
            return np.full(shape, -1.0)
        x[rng.random(shape) < 0.2] = -1.0
        return x
    if t == _T.MASK_ONE:  # one-hot over the last node axis; some rows all zero (degenerate)
        x = np.eye(LN_)[rng.integers(0, LN_, size=shape[:-1])]
        if degenerate == "zero_rows":
            x[rng.random(shape[:-1]) < 0.3] = 0.0
        return x
    if t == _T.CATEGORICAL:
        x = np.eye(LC)[rng.integers(0, LC, size=shape)]
        if degenerate == "zero_rows":
            x[rng.random(shape) < 0.3] = 0.0
        return x
    if t == _T.POINTER:
        return rng.integers(0, LN_, size=shape).astype(np.float64)
    if t == _T.PERMUTATION_POINTER:  # one cycle through all nodes, as the sorts' cyclic predecessors
        flat = int(np.prod(lead))
        perms = np.zeros((flat, LN_, LN_))
        for s in range(flat):
            order = rng.permutation(LN_)
            perms[s, order, np.roll(order, 1)] = 1.0
        return perms.reshape(lead + (LN_, LN_))
    raise ValueError(t)


def _raw(t, loc, lead, rng):
    shape = lead + _loc_shape(loc)
    if t == _T.CATEGORICAL:
        return 2 * rng.normal(size=shape + (LC,))
    if t == _T.POINTER:
        return 2 * rng.normal(size=shape + (LN_,))
    if t == _T.PERMUTATION_POINTER:  # a decoder output: log-Sinkhorn of logits
        x = 2 * rng.normal(size=lead + (LN_, LN_))
        return np.asarray(decoders.log_sinkhorn(jnp.asarray(x), 10, 0.1, True, None))
    return 2 * rng.normal(size=shape)


LOSS_CASES = []
for _stage in ("output", "hint"):
    for _loc in (_L.NODE, _L.EDGE, _L.GRAPH):
        for _t in (_T.SCALAR, _T.MASK, _T.MASK_ONE, _T.CATEGORICAL, _T.POINTER):
            if _t == _T.MASK_ONE and _loc == _L.GRAPH:
                continue  # no node axis to choose over (nar refuses it; CLRS has none)
            LOSS_CASES.append((_stage, _loc, _t, None))
    LOSS_CASES.append((_stage, _L.NODE, _T.PERMUTATION_POINTER, None))
    for _loc in (_L.NODE, _L.EDGE):
        LOSS_CASES.append((_stage, _loc, _T.MASK_ONE, "zero_rows"))
        LOSS_CASES.append((_stage, _loc, _T.CATEGORICAL, "zero_rows"))
        LOSS_CASES.append((_stage, _loc, _T.MASK, "all_masked"))


def losses_golden(out_dir: str) -> None:
    rng = np.random.default_rng(1)
    arrays, meta = {}, {"sizes": {"batch": LB, "nodes": LN_, "classes": LC, "time": LT}, "cases": {}}
    lengths = np.array([LT, 2, 3, 1])  # sample 3 has no hint step at all
    arrays["lengths"] = lengths
    for stage, loc, t, degenerate in LOSS_CASES:
        case = f"{stage}_{loc}_{t}" + (f"_{degenerate}" if degenerate else "")
        name = "p"
        st = specs.Stage.OUTPUT if stage == "output" else specs.Stage.HINT
        spec = {name: (st, loc, t)}
        if stage == "output":
            truth = _truth(t, loc, (LB,), rng, degenerate)
            raw = _raw(t, loc, (LB,), rng)
            dp = probing.DataPoint(name=name, location=loc, type_=t, data=jnp.asarray(truth))
            loss = float(losses.output_loss(dp, jnp.asarray(raw), LN_))
            score = None
            if t != _T.PERMUTATION_POINTER:  # scored only after fusing with its mask (spec.fuse_permutation)
                pred = decoders.postprocess(spec, {name: jnp.asarray(raw)}, 0.1, 50, hard=True)[name]
                pred = probing.DataPoint(name=name, location=loc, type_=t, data=np.asarray(pred.data))
                dp_np = probing.DataPoint(name=name, location=loc, type_=t, data=truth)
                score = float(evaluation._evaluate(dp_np, pred))  # pylint: disable=protected-access
        else:  # time-major, as the reference: truth [T, B, ...], predictions for t = 1 .. T-1
            truth = _truth(t, loc, (LT, LB), rng, degenerate)
            raw = np.stack([_raw(t, loc, (LB,), rng) for _ in range(LT - 1)])
            dp = probing.DataPoint(name=name, location=loc, type_=t, data=jnp.asarray(truth))
            loss = float(losses.hint_loss(dp, [jnp.asarray(r) for r in raw], jnp.asarray(lengths), LN_))
            score = None
        arrays[f"{case}/truth"], arrays[f"{case}/raw"] = truth, raw
        meta["cases"][case] = {"stage": stage, "location": loc, "type": t, "degenerate": degenerate,
                               "loss": None if np.isnan(loss) else loss, "loss_is_nan": bool(np.isnan(loss)),
                               "score": score}
    np.savez_compressed(os.path.join(out_dir, "losses.npz"), **arrays)
    with open(os.path.join(out_dir, "losses.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)


def permutation_golden(out_dir: str) -> None:
    rng = np.random.default_rng(2)
    pb, pn = 128, 8
    logits = 3 * rng.normal(size=(pb, pn, pn))
    x = jnp.asarray(logits)
    spec = {"pred": (specs.Stage.OUTPUT, _L.NODE, _T.PERMUTATION_POINTER)}
    dec_eval = decoders.log_sinkhorn(x, 10, 0.1, True, None)  # decoder at evaluation (repred)
    post = decoders.postprocess(spec, {"pred": dec_eval}, 0.1, 50, hard=True)["pred"].data  # scoring
    soft = decoders.postprocess(spec, {"pred": dec_eval}, 0.1, 25, hard=False)["pred"].data  # hint feedback
    hard_fb = decoders.postprocess(spec, {"pred": dec_eval}, 0.1, 25, hard=True)["pred"].data
    key = jax.random.PRNGKey(3)
    uniform = jax.random.uniform(key, x.shape)  # the draw log_sinkhorn makes from this key
    dec_train = decoders.log_sinkhorn(x, 10, 0.1, True, key)
    np.savez_compressed(
        os.path.join(out_dir, "permutation.npz"), logits=logits, dec_eval=np.asarray(dec_eval),
        eval_argmax=np.asarray(post).argmax(-1), feedback_soft=np.asarray(soft),
        feedback_hard_argmax=np.asarray(hard_fb).argmax(-1), uniform=np.asarray(uniform),
        dec_train=np.asarray(dec_train), single_pass_60_argmax=np.asarray(
            decoders.log_sinkhorn(x, 60, 0.1, True, None)).argmax(-1))


def init_golden(out_dir: str) -> None:
    """Sample moments of the reference's inits (float32, as it trains) and their analytic values."""
    jax.config.update("jax_enable_x64", False)
    fan_in, fan_out, hidden = 1024, 1024, 128
    x = jnp.zeros((1, fan_in), jnp.float32)
    lin = hk.transform(lambda v: hk.Linear(fan_out)(v))
    p = lin.init(jax.random.PRNGKey(0), x)["linear"]
    w, b = np.asarray(p["w"], np.float64), np.asarray(p["b"], np.float64)
    enc = hk.transform(lambda v: [hk.Linear(hidden, w_init=hk.initializers.TruncatedNormal(
        stddev=1.0 / jnp.sqrt(hidden)))(v) for _ in range(256)])  # xavier_on_scalars: 256 scalar encoders
    pe = enc.init(jax.random.PRNGKey(1), jnp.zeros((1, 1), jnp.float32))
    we = np.concatenate([np.asarray(v["w"], np.float64).ravel() for v in pe.values()])
    # std of a standard normal truncated to [-2, 2]
    from scipy.stats import truncnorm
    trunc = float(truncnorm(-2, 2).std())
    res = {
        "truncated_std_factor": trunc,
        "linear": {"fan_in": fan_in, "fan_out": fan_out, "analytic_std": trunc / np.sqrt(fan_in),
                   "bound": 2 / np.sqrt(fan_in), "mean": float(w.mean()), "std": float(w.std()),
                   "max_abs": float(np.abs(w).max()), "bias_max_abs": float(np.abs(b).max())},
        "xavier_on_scalars": {"fan_in": 1, "hidden": hidden, "count": int(we.size),
                              "analytic_std": trunc / np.sqrt(hidden), "bound": 2 / np.sqrt(hidden),
                              "mean": float(we.mean()), "std": float(we.std()),
                              "max_abs": float(np.abs(we).max())},
    }
    with open(os.path.join(out_dir, "init.json"), "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    jax.config.update("jax_enable_x64", True)


MODEL = {"algorithm": "bfs", "processor": "triplet_gmpnn", "hidden": 8, "nb_triplet_fts": 4, "nodes": 6}


def model_golden(out_dir: str) -> None:
    """A whole forward pass of the reference ``nets.Net`` at evaluation (``repred=True``: its own soft
    hint predictions fed back, no noise) on a two-sample bfs batch of different lengths."""
    from clrs._src import algorithms, nets, samplers

    rng = np.random.default_rng(5)
    n, hid, alg = MODEL["nodes"], MODEL["hidden"], MODEL["algorithm"]
    spec = specs.SPECS[alg]
    samples = []
    while len(samples) < 2:
        a = (rng.random((n, n)) < 0.3).astype(np.float64)
        a = np.maximum(a, a.T)
        np.fill_diagonal(a, 0)
        _, probes = algorithms.bfs(a, int(rng.integers(n)))
        sample = probing.split_stages(probes, spec)
        length = sample[2][0].data.shape[0]
        if not samples or length != samples[0][2][0].data.shape[0]:
            samples.append(sample)
    lengths = np.array([s[2][0].data.shape[0] for s in samples])
    t_max = int(lengths.max())

    def stack(i, time):
        dps = []
        for k, dp in enumerate(samples[0][i]):
            parts = [s[i][k].data for s in samples]
            if time:  # hints [T, 1, ...]: pad the time axis with zeros, as the reference's batching
                parts = [np.concatenate([p, np.zeros((t_max - p.shape[0],) + p.shape[1:], p.dtype)]) for p in parts]
            data = np.concatenate(parts, axis=1 if time else 0)
            dps.append(probing.DataPoint(name=dp.name, location=dp.location, type_=dp.type_, data=data))
        return dps

    inputs, outputs, hints = stack(0, False), stack(1, False), stack(2, True)
    features = samplers.Features(inputs=tuple(inputs), hints=tuple(hints), lengths=lengths)
    factory = processors.get_processor_factory(MODEL["processor"], use_ln=True,
                                               nb_triplet_fts=MODEL["nb_triplet_fts"])
    nb_dims = [{k: 1 for k in spec}]

    def forward(f):
        net = nets.Net([spec], hid, True, True, factory, False, "xavier_on_scalars", 0.0, 0.0, "soft", nb_dims)
        return net([f], repred=True, algorithm_index=0, return_hints=True, return_all_outputs=False)

    fn = hk.transform(forward)
    params = _randomise(fn.init(jax.random.PRNGKey(6), features), rng)
    out_preds, hint_preds = fn.apply(params, jax.random.PRNGKey(7), features)
    arrays = {"lengths": lengths}
    for dp in inputs + outputs + hints:
        arrays[f"data/{dp.name}"] = np.asarray(dp.data)
    for mod, leaves in params.items():
        for name, v in leaves.items():
            arrays[f"param/{mod}/{name}"] = np.asarray(v)
    for k, v in out_preds.items():
        arrays[f"pred/output/{k}"] = np.asarray(v)
    for k in hint_preds[0]:  # [S, B, ...]: step i predicts the hints of time i + 1
        arrays[f"pred/hint/{k}"] = np.stack([np.asarray(h[k]) for h in hint_preds])
    np.savez_compressed(os.path.join(out_dir, "model.npz"), **arrays)
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump({**MODEL, "params": {f"{m}/{n}": list(np.shape(v)) for m, l in params.items()
                                       for n, v in l.items()}}, f, indent=1, sort_keys=True)


def main() -> None:
    out_dir = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] != "--only" else os.path.join(os.path.dirname(__file__), "../../tests/golden")
    os.makedirs(out_dir, exist_ok=True)
    parts = {"processors": processors_golden, "losses": losses_golden, "permutation": permutation_golden,
             "model": model_golden, "init": init_golden}
    only = sys.argv[sys.argv.index("--only") + 1:] if "--only" in sys.argv else list(parts)
    unknown = sorted(set(only) - set(parts))
    if unknown or not only:
        sys.exit(f"--only takes one or more of {', '.join(parts)}; got {unknown or 'none'}")
    for name in only:
        parts[name](out_dir)
    import importlib.metadata as md
    versions = {p: md.version(p) for p in ("dm-clrs", "jax", "jaxlib", "dm-haiku", "numpy")}
    with open(os.path.join(out_dir, "VERSIONS.json"), "w") as f:
        json.dump(versions, f, indent=1, sort_keys=True)
    print("wrote", sorted(os.listdir(out_dir)), versions)


if __name__ == "__main__":
    main()

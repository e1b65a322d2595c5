"""The reference half of ``benchmarks/parity.py``: a CLRS ``BaselineModel`` (dm-clrs, JAX/Haiku) trained step
by step on command, inside the throwaway environment of ``make_golden.sh`` (nar never imports the reference).

Started by ``benchmarks/parity.py`` as a subprocess; arrays travel through ``.npz`` files in ``--workdir``.
At start it samples the data with the reference's own pipeline, as ``clrs/examples/run.py`` does (on-the-fly
samplers cycling the training sizes, ``p`` in 0.1 .. 0.9, random ``pos``, pred-as-input; permutations are
rewritten at use), builds the model with run.py's defaults and writes:

* ``data.npz``: ``{train,val}/<k>/{input,hint,output}/<probe>`` (before the permutation rewrite; hints
  ``[T, B, ...]``) and ``{train,val}/<k>/lengths``; ``spec.json``: the original probe table;
* ``init.npz``: the initial parameters, ``<haiku module>/<leaf>``.

Then it reads one JSON command per line on stdin and answers one line ``@@ {json}`` on stdout:

* ``{"cmd": "step", "k": k}`` -- one training step (``BaselineModel.feedback``) on training batch ``k``;
  answers the loss, the wall time (blocked until ready) and whether this batch shape was compiled; writes
  ``noise_<k>.npy``, the uniform draws behind the Gumbel noise of the permutation decoder
  (``[steps, B, N, N]``), when there is one;
* ``{"cmd": "params", "path": p}`` -- write the current parameters to ``p``;
* ``{"cmd": "grads", "k": k, "path": p}`` -- write the loss gradients on batch ``k`` (current parameters,
  the same rng key as its step) to ``p`` (and its noise to ``noise_grads_<k>.npy``);
* ``{"cmd": "eval"}`` -- the CLRS validation score on the ``val`` batches (``predict`` + ``evaluate``);
* ``{"cmd": "quit"}``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_golden  # noqa: E402,F401  (imports clrs._src without tensorflow; turns on float64, undone below)

import jax  # noqa: E402

jax.config.update("jax_enable_x64", False)  # the reference trains in float32
import numpy as np  # noqa: E402
from clrs._src import baselines, decoders, evaluation, processors, samplers  # noqa: E402

PRED_AS_INPUT_ALGOS = {"binary_search", "minimum", "find_maximum_subarray", "find_maximum_subarray_kadane",
                       "matrix_chain_order", "lcs_length", "optimal_bst", "activity_selector",
                       "task_scheduling", "naive_string_matcher", "kmp_matcher", "jarvis_march"}

_NOISE: list = []


def _record(u):
    _NOISE.append(np.asarray(u))


_log_sinkhorn = decoders.log_sinkhorn


def _log_sinkhorn_recorded(x, steps, temperature, zero_diagonal, noise_rng_key):
    """The reference's log_sinkhorn; also streams out the uniform draw behind its Gumbel noise."""
    if noise_rng_key is not None:
        jax.debug.callback(_record, jax.random.uniform(noise_rng_key, x.shape), ordered=True)
    return _log_sinkhorn(x, steps, temperature, zero_diagonal, noise_rng_key)


decoders.log_sinkhorn = _log_sinkhorn_recorded


def _pipeline(alg, length, rng, batch, num_samples):
    """run.py's ``make_sampler`` up to (not including) the permutation rewrite."""
    p = tuple(0.1 + 0.1 * i for i in range(9))
    if alg in ("articulation_points", "bridges", "mst_kruskal", "bipartite_matching"):
        p = tuple(np.array(p) / 2)
    sampler, spec = samplers.build_sampler(alg, seed=rng.randint(2 ** 32), num_samples=num_samples,
                                           length=length, p=p, length_needle=-8)

    def it():
        while True:
            yield sampler.next(batch)

    out = samplers.process_random_pos(it(), rng)
    if alg in PRED_AS_INPUT_ALGOS:
        spec, out = samplers.process_pred_as_input(spec, out)
    return out, spec


def _rewrite(spec, fb):
    """run.py's permutation rewrite of one feedback."""
    new_spec, it = samplers.process_permutations(spec, iter([fb]), True)
    return new_spec, next(it)


def _save_feedback(arrays, key, fb):
    for stage, dps in (("input", fb.features.inputs), ("hint", fb.features.hints), ("output", fb.outputs)):
        for dp in dps:
            arrays[f"{key}/{stage}/{dp.name}"] = np.asarray(dp.data)
    arrays[f"{key}/lengths"] = np.asarray(fb.features.lengths)


def _flat(params):
    return {f"{m}/{n}": np.asarray(v) for m, leaves in params.items() for n, v in leaves.items()}


def _reply(obj):
    sys.stdout.write("@@ " + json.dumps(obj) + "\n")
    sys.stdout.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--algorithm", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--lengths", default="4,7,11,13,16")
    ap.add_argument("--val-samples", type=int, default=64)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    alg, wd = args.algorithm, args.workdir
    lengths = [int(x) for x in args.lengths.split(",")]

    rng = np.random.RandomState(args.seed)  # as run.py
    rng_key = jax.random.PRNGKey(rng.randint(2 ** 32))
    train = [_pipeline(alg, n, rng, args.batch, -1) for n in lengths]
    val_it, spec = _pipeline(alg, max(lengths), rng, args.batch, args.val_samples)
    arrays = {}
    train_fb, val_fb = [], []
    for k in range(args.steps):
        fb = next(train[k % len(train)][0])
        _save_feedback(arrays, f"train/{k}", fb)
        train_fb.append(_rewrite(spec, fb)[1])
    for k in range(max(1, args.val_samples // args.batch)):
        fb = next(val_it)
        _save_feedback(arrays, f"val/{k}", fb)
        val_fb.append(_rewrite(spec, fb)[1])
    np.savez(os.path.join(wd, "data.npz"), **arrays)
    with open(os.path.join(wd, "spec.json"), "w") as f:
        json.dump({k: [str(s) for s in v] for k, v in spec.items()}, f)
    model_spec = samplers.process_permutations(spec, iter(()), True)[0]

    factory = processors.get_processor_factory("triplet_gmpnn", use_ln=True, nb_triplet_fts=8, nb_heads=1)
    model = baselines.BaselineModel(
        spec=[model_spec], dummy_trajectory=[train_fb[0]], processor_factory=factory, hidden_dim=args.hidden,
        encode_hints=True, decode_hints=True, encoder_init="xavier_on_scalars", use_lstm=False,
        learning_rate=1e-3, grad_clip_max_norm=1.0, checkpoint_path=os.path.join(wd, "ckpt"),
        freeze_processor=False, dropout_prob=0.0, hint_teacher_forcing=0.0, hint_repred_mode="soft",
        nb_msg_passing_steps=1)
    model.init([train_fb[0].features], args.seed + 1)  # as run.py
    np.savez(os.path.join(wd, "init.npz"), **_flat(model.params))
    keys = []  # the rng key of every training step, split as run.py does
    for _ in range(args.steps):
        rng_key, new_key = jax.random.split(rng_key)
        keys.append(rng_key)
        rng_key = new_key
    seen = set()
    _reply({"ready": True, "jax": jax.__version__, "devices": str(jax.devices())})
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "quit":
            break
        if cmd["cmd"] == "step":
            k = int(cmd["k"])
            fb = train_fb[k]
            shape = (fb.features.hints[0].data.shape[:2], fb.features.inputs[0].data.shape)
            _NOISE.clear()
            t = time.perf_counter()
            loss = float(model.feedback(keys[k], fb))
            jax.effects_barrier()
            dt = time.perf_counter() - t
            if _NOISE:
                np.save(os.path.join(wd, f"noise_{k}.npy"), np.stack(_NOISE))
            _reply({"loss": loss, "time": dt, "compiled": shape not in seen, "noise": len(_NOISE)})
            seen.add(shape)
        elif cmd["cmd"] == "params":
            np.savez(cmd["path"], **_flat(model.params))
            _reply({"ok": True})
        elif cmd["cmd"] == "grads":
            k = int(cmd["k"])
            _NOISE.clear()
            loss, grads = model.compute_grad(keys[k], train_fb[k])
            jax.effects_barrier()
            np.savez(cmd["path"], **_flat(jax.device_get(grads)))
            if _NOISE:
                np.save(os.path.join(wd, f"noise_grads_{k}.npy"), np.stack(_NOISE))
            _reply({"loss": float(loss)})
        elif cmd["cmd"] == "eval":
            preds, outs = [], []
            key = jax.random.PRNGKey(0)
            for fb in val_fb:
                key, sub = jax.random.split(key)
                p, _ = model.predict(sub, fb.features)
                preds.append(p)
                outs.append(fb.outputs)
            outputs = jax.tree_util.tree_map(lambda *x: np.concatenate(x, 0), *outs)
            predictions = jax.tree_util.tree_map(lambda *x: np.concatenate(x, 0), *preds)
            res = evaluation.evaluate(outputs, predictions)
            _reply({k: float(v) for k, v in res.items()})
        else:
            _reply({"error": f"unknown command {cmd['cmd']!r}"})


if __name__ == "__main__":
    main()

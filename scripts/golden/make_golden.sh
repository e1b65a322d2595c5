#!/usr/bin/env bash
# Regenerate tests/golden/ from the reference CLRS implementation (dm-clrs, JAX/Haiku, CPU).
# The reference is installed in a throwaway virtual environment OUTSIDE the repository
# (default /tmp/nar-golden-venv, override with NAR_GOLDEN_VENV); nar never depends on it.
# dm-clrs is installed without its dependencies: only jax/jaxlib/dm-haiku/chex/optax and a few small
# packages are needed for the modules used (tensorflow and tfds are not).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${NAR_GOLDEN_VENV:-/tmp/nar-golden-venv}"
case "$venv" in "$repo"/*) echo "NAR_GOLDEN_VENV must lie outside the repository" >&2; exit 2;; esac
py="${PYTHON:-python3.11}"
if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv"
  "$venv/bin/pip" install -q "jax[cpu]" dm-haiku chex optax attrs six tqdm numpy scipy
  "$venv/bin/pip" install -q --no-deps "dm-clrs==2.0.3"
fi
"$venv/bin/python" "$here/make_golden.py" "$repo/tests/golden" "$@"   # e.g. --only processors

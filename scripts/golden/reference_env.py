"""Importing the reference (dm-clrs) inside the throwaway golden environment, shared by the golden scripts.

``clrs/__init__`` pulls in tensorflow datasets and ``clrs_text/__init__`` ml_collections; neither is
installed there, so the packages are registered as bare namespaces and ``tensorflow`` as a stub whose
use fails loudly (the parts of the reference used here never call it).
"""
import importlib.util
import sys
import types


def import_reference() -> None:
    """Make ``clrs._src...`` importable without the package ``__init__`` files."""
    spec = importlib.util.find_spec("clrs")
    if spec is None:
        sys.exit("the reference package dm-clrs is not installed in this interpreter")
    root = list(spec.submodule_search_locations)[0]
    for name, path in (("clrs", root), ("clrs._src.clrs_text", root + "/_src/clrs_text")):
        mod = types.ModuleType(name)
        mod.__path__ = [path]
        sys.modules[name] = mod

    class _Absent(types.ModuleType):
        class Tensor:  # only for isinstance checks, which must fail
            pass

        def __getattr__(self, name):
            if name.startswith("__"):
                raise AttributeError(name)
            raise RuntimeError(f"tensorflow.{name} is not available in the golden environment")

    sys.modules.setdefault("tensorflow", _Absent("tensorflow"))

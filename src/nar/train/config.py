"""The training configuration: one strict dataclass, loadable from YAML/JSON, overridable by ``key=value``.

Defaults follow the CLRS baseline (``clrs/examples/run.py``; Ibarz et al. 2022): Triplet-GMPNN, hidden 128,
Adam at 1e-3, gradient clipping at norm 1, batch 32, 10,000 steps, no teacher forcing, soft hint feedback,
on-the-fly training data at sizes 4/7/11/13/16 (cycled) with ER ``p`` drawn per graph from 0.1..0.9 and
random ``pos``, validation every 50 steps on the n = 16 split, test at n = 64.

Strictness: an unknown key (in a file, in ``--set`` or in :meth:`TrainConfig.from_dict`) or a value of the
wrong type raises :class:`ConfigError` naming the key and what is allowed.  ``algorithm`` (one name, as
``nar train --algorithm``) is accepted as an alias of ``algorithms`` in files, mappings and ``--set``;
giving both in one place is an error.

    cfg = TrainConfig.load("my.yaml", overrides=["lr=3e-4", "algorithms=bfs,dfs"])
    cfg.save("run/config.json")
"""
from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

from ..validation import InputError

STEP_COUNTS = ("truth", "learned")  # ground-truth trajectory length, or a learned termination head
TRAIN_DATA = ("on_the_fly", "fixed")
GRAPH_P = ("generalist", "default")
DEVICES = ("auto", "cpu", "cuda")
STRING_MATCHERS = ("naive_string_matcher", "kmp_matcher")


class ConfigError(InputError):
    """A configuration key or value is not acceptable."""


@dataclass
class TrainConfig:
    """Everything a training run depends on (see the module docstring for the defaults' source)."""

    # -- what is trained ------------------------------------------------------------------------
    algorithms: list[str] = field(default_factory=lambda: ["bfs"])  # "all" = the 30 CLRS algorithms
    model: str = "reasoner"  # a name in nar.train.models.MODELS
    model_options: dict = field(default_factory=dict)  # extra options of the model factory
    processor: str = "triplet_gmpnn"
    hidden: int = 128
    hint_mode: str = "encoded_decoded"
    feedback: str = "soft"
    use_ln: bool = True
    nb_triplet_fts: int = 8
    nb_heads: int = 1
    encoder_init: str = "xavier_on_scalars"
    dropout: float = 0.0
    step_count: str = "truth"  # "truth" (ground-truth length) or "learned" (termination head)
    learned_max_steps: Optional[int] = None  # cap for step_count=learned; None = 2 x the batch's longest
    # -- optimisation ---------------------------------------------------------------------------
    steps: int = 10000
    batch_size: int = 32  # per process under DDP
    lr: float = 1e-3
    grad_clip: float = 1.0  # max global gradient norm; 0 = no clipping
    teacher_forcing: float = 0.0
    seed: int = 42
    time_limit: Optional[float] = None  # seconds of training; stops early (the steps done are recorded)
    # -- data -----------------------------------------------------------------------------------
    train_data: str = "on_the_fly"  # or "fixed": the 1000-sample n = 16 CLRS30 train split
    train_sizes: list[int] = field(default_factory=lambda: [4, 7, 11, 13, 16])
    random_pos: bool = True
    graph_p: str = "generalist"  # ER p per graph from 0.1..0.9 (halved where CLRS halves it), or "default"
    length_needle: int = -8  # string matchers in training: needle length uniform in 1..8
    data_dir: Optional[str] = None  # cache of fixed splits (nar.data.write_splits); None = in memory
    val_n: int = 16
    val_count: Optional[int] = None  # None = CLRS30: 32 x the algorithm's eval multiplier
    test_n: int = 64
    test_count: Optional[int] = None
    eval_batch_size: int = 32
    # -- schedule -------------------------------------------------------------------------------
    eval_every: int = 50
    checkpoint_every: int = 100
    log_every: int = 10
    # -- runtime --------------------------------------------------------------------------------
    device: str = "auto"
    threads: Optional[int] = None  # torch.set_num_threads; None = leave torch's default
    num_workers: int = 0  # DataLoader workers generating training batches

    # ------------------------------------------------------------------------------------------
    def __post_init__(self):
        self.validate()

    @classmethod
    def keys(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    def to_dict(self) -> dict:
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data: dict, *, source: str = "config") -> "TrainConfig":
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: a config must be a mapping of keys to values, got {type(data).__name__}")
        data = _alias_algorithm(data, source)
        unknown = sorted(set(data) - set(cls.keys()))
        if unknown:
            raise ConfigError(f"{source}: unknown config key(s) {unknown}; valid keys: {', '.join(cls.keys())}")
        hints = typing.get_type_hints(cls)
        values = {k: coerce(k, v, hints[k], source) for k, v in data.items()}
        return cls(**values)

    def replace(self, **changes) -> "TrainConfig":
        merged = self.to_dict()
        merged.update(changes)
        return TrainConfig.from_dict(merged)

    def with_overrides(self, overrides: Iterable[str], *, source: str = "--set") -> "TrainConfig":
        """Apply ``key=value`` strings (``model_options.key=value`` sets one model option)."""
        data = self.to_dict()
        pairs = [parse_override(text, source) for text in overrides]
        _alias_algorithm(dict(pairs), source)  # both spellings at once: an error
        for key, value in pairs:
            key = ALIASES.get(key, key)
            if key.startswith("model_options."):
                data["model_options"] = dict(data["model_options"], **{key.split(".", 1)[1]: _json_or_str(value)})
            else:
                if key not in data:
                    raise ConfigError(f"{source}: unknown config key {key!r}; valid keys: "
                                      f"{', '.join(self.keys())}")
                data[key] = value  # a string: coerced by from_dict
        return TrainConfig.from_dict(data, source=source)

    @classmethod
    def load(cls, path=None, overrides: Iterable[str] = ()) -> "TrainConfig":
        """Defaults, then the file at ``path`` (YAML or JSON, by extension), then ``overrides``."""
        cfg = cls() if path is None else cls.from_dict(read_file(path), source=str(path))
        return cfg.with_overrides(overrides) if overrides else cfg

    def save(self, path) -> None:
        from ..data.store import atomic_write

        text = (json.dumps(self.to_dict(), indent=1) + "\n").encode()
        atomic_write(Path(path), lambda put: put(text))

    # ------------------------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise :class:`ConfigError` for any value outside its allowed set (names resolved lazily)."""
        from ..api import list_algorithms

        if self.algorithms == ["all"]:
            self.algorithms = list_algorithms()
        names = list_algorithms()
        bad = [a for a in self.algorithms if a not in names]
        if not self.algorithms or bad:
            raise ConfigError(f"unknown algorithm(s) {bad or self.algorithms!r}; valid: 'all' or any of "
                              f"{', '.join(names)}")
        if len(set(self.algorithms)) != len(self.algorithms):
            raise ConfigError(f"algorithms listed twice in {self.algorithms}")
        from ..models import FEEDBACK_MODES, HINT_MODES, list_processors
        from .models import MODELS, check_model_options

        _choice("model", self.model, tuple(MODELS))
        check_model_options(self.model, self.model_options)
        _choice("processor", self.processor, tuple(list_processors()))
        _choice("hint_mode", self.hint_mode, HINT_MODES)
        _choice("feedback", self.feedback, FEEDBACK_MODES)
        _choice("encoder_init", self.encoder_init, ("xavier_on_scalars", "default"))
        _choice("step_count", self.step_count, STEP_COUNTS)
        _choice("train_data", self.train_data, TRAIN_DATA)
        _choice("graph_p", self.graph_p, GRAPH_P)
        _choice("device", self.device, DEVICES)
        for key in ("hidden", "nb_triplet_fts", "nb_heads", "steps", "batch_size", "val_n", "test_n",
                    "eval_batch_size", "eval_every", "checkpoint_every", "log_every"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{key} must be >= 1, got {getattr(self, key)}")
        for key in ("val_count", "test_count", "threads", "learned_max_steps"):
            v = getattr(self, key)
            if v is not None and v < 1:
                raise ConfigError(f"{key} must be >= 1 or null, got {v}")
        for key in ("lr", "grad_clip", "teacher_forcing", "dropout", "time_limit"):
            v = getattr(self, key)
            if v is not None and not math.isfinite(v):
                raise ConfigError(f"{key} must be a finite number, got {v}")
        if self.num_workers < 0:
            raise ConfigError(f"num_workers must be >= 0, got {self.num_workers}")
        if not (self.lr > 0):
            raise ConfigError(f"lr must be > 0, got {self.lr}")
        if not (self.grad_clip >= 0):
            raise ConfigError(f"grad_clip must be >= 0 (0 = none), got {self.grad_clip}")
        if not 0.0 <= self.teacher_forcing <= 1.0:
            raise ConfigError(f"teacher_forcing must be in [0, 1], got {self.teacher_forcing}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.time_limit is not None and not self.time_limit > 0:
            raise ConfigError(f"time_limit must be > 0 seconds or null, got {self.time_limit}")
        if not 0 <= self.seed < 2 ** 64:
            raise ConfigError(f"seed must be in [0, 2**64), got {self.seed}")
        if not self.train_sizes or min(self.train_sizes) < 1:
            raise ConfigError(f"train_sizes must be a non-empty list of sizes >= 1, got {self.train_sizes}")
        if self.length_needle == 0:
            raise ConfigError("length_needle must be a needle length (> 0) or -k (uniform in 1..k), not 0")


# ---------------------------------------------------------------------------------------------- parsing
ALIASES = {"algorithm": "algorithms"}  # the flag's spelling, accepted in files and --set


def _alias_algorithm(data: dict, source: str) -> dict:
    """``data`` with ``algorithm`` renamed to ``algorithms``; both given is a :class:`ConfigError`."""
    if not isinstance(data, dict) or "algorithm" not in data:
        return data
    if "algorithms" in data:
        raise ConfigError(f"{source}: give 'algorithm' (one name) or 'algorithms' (a list or 'all'), not both")
    data = dict(data)
    data["algorithms"] = data.pop("algorithm")
    return data


def _choice(key: str, value, allowed) -> None:
    if value not in allowed:
        raise ConfigError(f"{key} must be one of {', '.join(map(str, allowed))}; got {value!r}")


def parse_override(text: str, source: str = "--set") -> tuple[str, str]:
    if "=" not in text:
        raise ConfigError(f"{source}: expected key=value, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def _json_or_str(text):
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def coerce(key: str, value: Any, hint, source: str = "config") -> Any:
    """``value`` (from a file or a ``--set`` string) as type ``hint``; :class:`ConfigError` otherwise."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):  # Optional[X]
        inner = [a for a in args if a is not type(None)][0]
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null", "")):
            return None
        return coerce(key, value, inner, source)
    where = f"{source}: {key}"
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise ConfigError(f"{where} must be true or false, got {value!r}")
    if hint is int:
        if isinstance(value, bool):
            raise ConfigError(f"{where} must be an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        raise ConfigError(f"{where} must be an integer, got {value!r}")
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{where} must be a number, got {value!r}")
    if hint is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where} must be a string, got {value!r}")
    if origin is list:
        (item,) = args
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else [v.strip() for v in text.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        return [coerce(f"{key}[{i}]", v, item, source) for i, v in enumerate(value)]
    if hint is dict or origin is dict:
        if isinstance(value, str):
            value = _json_or_str(value)
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a mapping, got {value!r}")
        return dict(value)
    raise TypeError(f"no coercion for {hint!r}")  # a programming error in TrainConfig


def read_file(path) -> dict:
    """A config mapping from a ``.yaml``/``.yml`` or ``.json`` file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    text = path.read_text()
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ConfigError(f"{path}: reading YAML needs PyYAML (pip install pyyaml), or use a .json config")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    elif path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    else:
        raise ConfigError(f"{path}: a config file must end in .yaml, .yml or .json")
    return {} if data is None else data


def training_sizes(cfg: TrainConfig, algorithm: str) -> list[int]:
    """Node counts of ``algorithm``'s training batches: ``train_sizes``, except the string matchers,
    which train at one length of ``max(train_sizes) * 5 // 4`` as CLRS's run.py does."""
    if algorithm in STRING_MATCHERS:
        return [max(cfg.train_sizes) * 5 // 4]
    return list(cfg.train_sizes)

"""The quality-diversity frontier of temperature sweeps (Caccia et al. 2018).

"Language GANs falling short" (Caccia et al., 2018) showed that a GAN's single
(BLEU, Self-BLEU) point says little by itself: lowering the softmax
temperature of a plain MLE language model trades diversity for quality, and
sweeping it traces a whole curve.  A GAN improves on MLE only if its point
lies above that curve, i.e. higher BLEU-n (quality, against the references)
at the same Self-BLEU-n (lower = more diverse samples).

This module samples a run's generators at several temperatures, scores every
sample set with the one scorer (`evaluation.scorer`), and writes the curves
(JSON, and their plot from `evaluation.figures`)::

    from seqgan_gumbel.evaluation.sweep import temperature_sweep, write_sweep

    curves = temperature_sweep(["runs/a"], "data/test.txt", [0.7, 0.85, 1.0])
    write_sweep(curves, "sweep.json", "sweep.png", n=5)

For every run both the adversarial generator (``generator.keras``, "gan") and
the MLE-pretrained one (``generator_mle.keras``, "mle") are swept, so each
run brings its own baseline curve.  Every temperature draws its samples with
the same seed (common random numbers), so a sweep is reproducible and the
points of one curve differ only by temperature.

TensorFlow is imported only when a generator is sampled: reading, writing and
plotting curves works without it.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.evaluation.figures import plot_frontier
from seqgan_gumbel.fileio import atomic_write_text, read_format_json
from seqgan_gumbel.evaluation.scorer import SampleScorer
from seqgan_gumbel.metrics.bleu import DEFAULT_ORDERS, BleuScorer
from seqgan_gumbel.rundir import GENERATOR_FILE, MLE_GENERATOR_FILE, RunDirectory

__all__ = [
    "SweepCurve",
    "sweep_run",
    "temperature_sweep",
    "write_sweep",
    "read_sweep",
    "model_kind",
]

SWEEP_FORMAT = "seqgan_gumbel.sweep"
SWEEP_FORMAT_VERSION = 1

_MODEL_KINDS = {GENERATOR_FILE: "gan", MLE_GENERATOR_FILE: "mle"}


def model_kind(model: str) -> str:
    """Short name of a run's generator file: "gan", "mle", or the file's stem."""
    return _MODEL_KINDS.get(model, Path(model).name.split(".")[0] or model)


def _temperature_key(temperature: float) -> str:
    # repr of a float round-trips exactly through float(); "0.7", "1.0".
    return repr(float(temperature))


# --------------------------------------------------------------------------
# The result record
# --------------------------------------------------------------------------


@dataclass
class SweepCurve:
    """BLEU and Self-BLEU of one generator sampled at several temperatures.

    Attributes:
        label: legend name, by default "<run dir name>/<gan|mle>".
        run_dir: the run directory.
        model: the generator file inside it.
        temperatures: the sampling temperatures, ascending.
        bleu: temperature -> {order n: mean BLEU-n against the references}.
        self_bleu: temperature -> {order n: Self-BLEU-n of the samples}.
        num_samples: sentences sampled per temperature.
        num_references: reference sentences for BLEU.
        signatures: {"bleu": ..., "self_bleu": ...} signature strings of the
            metric settings (identical for every temperature).
        orders: the BLEU orders computed.
        seed: the sampling seed (the same for every temperature).
        nll_oracle: temperature -> {"nll": NLL_oracle or None, "scored":
            samples scored} when the sweep had an oracle (synthetic data);
            empty otherwise.
        mean_length: temperature -> mean tokens per sample (EOS not
            counted): brevity moves BLEU and Self-BLEU together, so a point
            is only comparable with curve points of similar length.
        distinct: temperature -> fraction of distinct samples.
    """

    label: str
    run_dir: str
    model: str
    temperatures: list
    bleu: dict
    self_bleu: dict
    num_samples: int
    num_references: int
    signatures: dict = field(default_factory=dict)
    orders: list = field(default_factory=lambda: list(DEFAULT_ORDERS))
    seed: int | None = 0
    nll_oracle: dict = field(default_factory=dict)
    mean_length: dict = field(default_factory=dict)
    distinct: dict = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """"gan", "mle", or the model file's stem."""
        return model_kind(self.model)

    def points(self, n: int = 5) -> list[tuple[float, float, float]]:
        """(temperature, Self-BLEU-n, BLEU-n) for every temperature, in order.

        Raises:
            UserInputError: order n was not computed for this curve.
        """
        if n not in self.orders:
            raise UserInputError(
                f"curve {self.label!r} has BLEU orders {', '.join(map(str, self.orders))}, not {n}"
            )
        return [(t, self.self_bleu[t][n], self.bleu[t][n]) for t in self.temperatures]

    def to_dict(self) -> dict:
        """JSON-ready form: temperature and order keys become strings."""
        data = asdict(self)
        data["kind"] = self.kind
        data["temperatures"] = [float(t) for t in self.temperatures]
        for metric in ("bleu", "self_bleu"):
            data[metric] = {
                _temperature_key(t): {str(n): float(s) for n, s in sorted(getattr(self, metric)[t].items())}
                for t in self.temperatures
            }
        data["nll_oracle"] = {_temperature_key(t): dict(v) for t, v in sorted(self.nll_oracle.items())}
        for metric in ("mean_length", "distinct"):
            data[metric] = {_temperature_key(t): float(v) for t, v in sorted(getattr(self, metric).items())}
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "SweepCurve":
        """Inverse of `to_dict`.

        Raises:
            UserInputError: missing or malformed fields.
        """
        try:
            def table(metric):
                return {
                    float(t): {int(n): float(s) for n, s in scores.items()}
                    for t, scores in data[metric].items()
                }

            return cls(
                label=str(data["label"]),
                run_dir=str(data["run_dir"]),
                model=str(data["model"]),
                temperatures=[float(t) for t in data["temperatures"]],
                bleu=table("bleu"),
                self_bleu=table("self_bleu"),
                num_samples=int(data["num_samples"]),
                num_references=int(data["num_references"]),
                signatures=dict(data.get("signatures", {})),
                orders=[int(n) for n in data.get("orders", DEFAULT_ORDERS)],
                seed=data.get("seed"),
                nll_oracle={float(t): {"nll": None if v["nll"] is None else float(v["nll"]), "scored": int(v["scored"])}
                            for t, v in data.get("nll_oracle", {}).items()},
                # Absent from sweeps recorded before sample lengths were.
                mean_length={float(t): float(v) for t, v in data.get("mean_length", {}).items()},
                distinct={float(t): float(v) for t, v in data.get("distinct", {}).items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UserInputError(f"not a temperature-sweep curve ({type(exc).__name__}: {exc})") from None


# --------------------------------------------------------------------------
# Argument checks (all before any model is loaded)
# --------------------------------------------------------------------------


def _check_temperatures(temperatures) -> list[float]:
    if temperatures is None or len(temperatures) == 0:
        raise UserInputError("the temperature sweep needs at least one temperature")
    checked = []
    for value in temperatures:
        try:
            t = float(value)
        except (TypeError, ValueError):
            raise UserInputError(f"temperature {value!r} is not a number") from None
        if not math.isfinite(t) or t <= 0:
            raise UserInputError(f"every temperature must be a finite number > 0, got {value!r}")
        checked.append(t)
    return sorted(set(checked))


def _check_num_samples(num_samples) -> int:
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 2:
        raise UserInputError(
            f"the number of samples must be an integer >= 2 (Self-BLEU scores each sample "
            f"against the others), got {num_samples!r}"
        )
    return num_samples


def _check_orders(orders) -> list[int]:
    try:
        checked = sorted({int(n) for n in orders})
    except (TypeError, ValueError):
        raise UserInputError(f"BLEU orders must be positive integers, got {orders!r}") from None
    if not checked or checked[0] < 1:
        raise UserInputError(f"BLEU orders must be positive integers, got {orders!r}")
    return checked


def _default_label(run_dir: Path, model: str) -> str:
    name = run_dir.name or run_dir.resolve().name
    return f"{name}/{model_kind(model)}"


# --------------------------------------------------------------------------
# Sweeping
# --------------------------------------------------------------------------


def sweep_run(
    run_dir: str | Path,
    model: str = GENERATOR_FILE,
    references: Sequence | None = None,
    temperatures: Sequence[float] = (1.0,),
    num_samples: int = 1000,
    orders: Iterable[int] = DEFAULT_ORDERS,
    seed: int | None = 0,
    label: str | None = None,
    *,
    scorer: BleuScorer | None = None,
    tokenizer=None,
    log: Callable[[str], None] | None = None,
    oracle=None,
) -> SweepCurve:
    """Samples one generator of a run at several temperatures and scores it.

    Args:
        run_dir: a run directory written by `train`.
        model: the generator file: "generator.keras" (adversarial) or
            "generator_mle.keras" (MLE-pretrained).
        references: the BLEU references, tokenized with the run's tokenizer
            (lists of tokens); raw strings are tokenized with it here.
        temperatures: sampling temperatures (each > 0); sorted, duplicates
            dropped.
        num_samples: sentences sampled per temperature (>= 2).
        orders: BLEU orders.
        seed: sampling seed, the same for every temperature.
        label: legend name (default "<run dir name>/<gan|mle>").
        scorer: a `BleuScorer` already built from `references` (with max_n
            >= max(orders)), so that several sweeps share one n-gram table.
        tokenizer: the run's tokenizer if already loaded.
        log: receives a progress line per temperature.
        oracle: a `seqgan_gumbel.corpus.oracle.Oracle` whose ids are the run's
            tokens (synthetic data): NLL_oracle is scored at each temperature.

    Returns:
        The curve.

    Raises:
        UserInputError: bad arguments, not a run directory, missing or
            damaged model, or a vocabulary that does not match the model.
    """
    temperatures = _check_temperatures(temperatures)
    num_samples = _check_num_samples(num_samples)
    orders = _check_orders(orders)
    if scorer is None and (references is None or len(references) == 0):
        raise UserInputError("the temperature sweep needs at least one reference sentence")
    if scorer is not None and scorer.max_n < orders[-1]:
        raise UserInputError(f"the BLEU scorer goes up to order {scorer.max_n}, not {orders[-1]}")
    run = RunDirectory(run_dir)
    run.require_run()
    if tokenizer is None:
        tokenizer = run.load_tokenizer()
    if scorer is None:
        if isinstance(references[0], str):
            references = [tokenizer.tokenize(sentence) for sentence in references]
        scorer = BleuScorer(references, max_n=orders[-1])
    sample_scorer = SampleScorer(scorer, tokenizer.level, orders, oracle=oracle)

    # TensorFlow only now: everything above is checked without it.
    from seqgan_gumbel.generation import sample_ids

    generator = run.load_generator(model, tokenizer)
    label = label or _default_label(run.path, model)
    bleu_table, self_table, signatures, oracle_table, lengths, distinct = {}, {}, {}, {}, {}, {}
    for temperature in temperatures:
        ids = sample_ids(generator, num_samples, temperature=temperature, seed=seed)
        scores = sample_scorer.score([tokenizer.ids_to_tokens(row) for row in ids])
        bleu_table[temperature] = dict(scores.bleu.scores)
        self_table[temperature] = dict(scores.self_bleu.scores)
        lengths[temperature] = scores.mean_length
        distinct[temperature] = scores.distinct
        signatures = {"bleu": scores.bleu.signature, "self_bleu": scores.self_bleu.signature}
        if oracle is not None:
            oracle_table[temperature] = {"nll": scores.nll_oracle, "scored": scores.nll_oracle_scored}
        if log is not None:
            n = orders[-1]
            log(
                f"{label} T={temperature:g}: BLEU-{n} {scores.bleu.scores[n]:.4f}, "
                f"Self-BLEU-{n} {scores.self_bleu.scores[n]:.4f}, mean length {scores.mean_length:.2f}"
                + (f", NLL_oracle {_format_nll(oracle_table[temperature])}" if oracle is not None else "")
            )
    return SweepCurve(
        label=label,
        run_dir=str(run.path),
        model=model,
        temperatures=temperatures,
        bleu=bleu_table,
        self_bleu=self_table,
        num_samples=num_samples,
        num_references=scorer.num_references,
        signatures=signatures,
        orders=orders,
        seed=seed,
        nll_oracle=oracle_table,
        mean_length=lengths,
        distinct=distinct,
    )


def _format_nll(entry: dict) -> str:
    return "-" if entry["nll"] is None else f"{entry['nll']:.4f} ({entry['scored']} scored)"


def temperature_sweep(
    run_dirs: Sequence[str | Path],
    references_path: str | Path,
    temperatures: Sequence[float],
    num_samples: int = 1000,
    orders: Iterable[int] = DEFAULT_ORDERS,
    seed: int | None = 0,
    include_mle: bool = True,
    log: Callable[[str], None] | None = None,
    oracle_weights: Mapping | None = None,
) -> list[SweepCurve]:
    """Sweeps the temperature of every run's generators.

    Each run contributes its adversarial generator and (with `include_mle`)
    its MLE-pretrained one, the baseline curve its GAN point must beat.
    References are read once and tokenized with each run's own tokenizer; the
    BLEU n-gram table is built once per distinct tokenizer.

    Args:
        run_dirs: run directories written by `train`.
        references_path: reference sentences, one a line (e.g. the test set).
        temperatures: sampling temperatures (each > 0).
        num_samples: sentences sampled per temperature and generator (>= 2).
        orders: BLEU orders.
        seed: sampling seed.
        include_mle: also sweep generator_mle.keras.
        log: receives progress lines.
        oracle_weights: the SeqGAN oracle's arrays (`load_oracle_weights`) for
            runs trained on its samples: each point also gets NLL_oracle, the
            oracle built at each run's maximum length.

    Returns:
        Curves in run order, the GAN curve before the MLE curve of each run.

    Raises:
        UserInputError: no run directories, bad temperatures, sample count or
            orders, unreadable references, or a path that is not a run.
    """
    from seqgan_gumbel.corpus.loading import read_lines

    if run_dirs is None or isinstance(run_dirs, (str, Path)):
        run_dirs = [] if run_dirs is None else [run_dirs]
    if len(run_dirs) == 0:
        raise UserInputError("the temperature sweep needs at least one run directory")
    temperatures = _check_temperatures(temperatures)
    num_samples = _check_num_samples(num_samples)
    orders = _check_orders(orders)
    runs = [RunDirectory(path) for path in run_dirs]
    for run in runs:
        run.require_run()
    models = [GENERATOR_FILE, MLE_GENERATOR_FILE] if include_mle else [GENERATOR_FILE]
    for run in runs:
        for model in models:
            if not run.file(model).exists():
                raise UserInputError(f"{run.file(model)}: model file not found (did training finish?)")
    sentences = read_lines(references_path, "reference")

    scorers: dict[str, BleuScorer] = {}
    curves = []
    oracles = {}
    for run in runs:
        tokenizer = run.load_tokenizer()
        key = json.dumps(tokenizer.to_dict(), sort_keys=True)
        if key not in scorers:
            scorers[key] = BleuScorer([tokenizer.tokenize(s) for s in sentences], max_n=orders[-1])
        oracle = None
        if oracle_weights is not None:
            from seqgan_gumbel.corpus.oracle import Oracle

            length = run.load_config().data.max_length
            if length not in oracles:
                oracles[length] = Oracle(oracle_weights, sequence_length=length)
            oracle = oracles[length]
        for model in models:
            curves.append(
                sweep_run(
                    run.path, model, None, temperatures, num_samples, orders, seed,
                    scorer=scorers[key], tokenizer=tokenizer, log=log, oracle=oracle,
                )
            )
    return curves


# --------------------------------------------------------------------------
# Plotting and writing
# --------------------------------------------------------------------------


def sweep_document(curves: Sequence[SweepCurve], n: int = 5) -> dict:
    """The JSON document `write_sweep` writes."""
    return {
        "format": SWEEP_FORMAT,
        "version": SWEEP_FORMAT_VERSION,
        "plotted_order": n,
        "curves": [curve.to_dict() for curve in curves],
    }


def write_sweep(curves: Sequence[SweepCurve], json_path: str | Path, png_path: str | Path, n: int = 5) -> None:
    """Writes the curves as JSON (indent 2) and their frontier plot as PNG.

    Args:
        curves: the curves.
        json_path: the JSON file (see `sweep_document`).
        png_path: the PNG file (see `plot_frontier`).
        n: the BLEU order plotted.

    Raises:
        UserInputError: see `plot_frontier`.
    """
    if not curves:
        raise UserInputError("nothing to write: no sweep curves")
    for curve in curves:
        curve.points(n)  # the order check, before anything is written
    atomic_write_text(json_path, json.dumps(sweep_document(curves, n), indent=2, ensure_ascii=False) + "\n")
    plot_frontier(curves, png_path, n)


def read_sweep(json_path: str | Path) -> list[SweepCurve]:
    """Reads the curves of a file written by `write_sweep`.

    Raises:
        UserInputError: missing, unreadable or not a sweep file.
    """
    data = read_format_json(json_path, "temperature sweep", SWEEP_FORMAT, SWEEP_FORMAT_VERSION, "temperature-sweep",
                            "sweep")
    try:
        return [SweepCurve.from_dict(curve) for curve in data["curves"]]
    except UserInputError as exc:
        raise UserInputError(f"{json_path}: {exc}") from None
    except (KeyError, TypeError) as exc:
        raise UserInputError(f"{json_path}: not a temperature-sweep file ({exc})") from None

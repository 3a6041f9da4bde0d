"""The command line: ``seqgan-gumbel train|generate|evaluate`` (also ``python -m seqgan_gumbel``).

Heavy imports (TensorFlow) happen inside the commands that need them, so
`evaluate` and `--help` start fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from seqgan_gumbel import __version__
from seqgan_gumbel.config import LOSSES, PRECISIONS, SCHEDULES, Config
from seqgan_gumbel.errors import TrainingDiverged, TrainingInterrupted, UserInputError

PROG = "seqgan-gumbel"


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows defaults, except where the help text already states one or there is none."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default:" in text or action.default in (None, False, [], argparse.SUPPRESS):
            return text
        return super()._get_help_string(action)


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


_positive_int.__name__ = "positive integer"
_non_negative_int.__name__ = "non-negative integer"
_positive_float.__name__ = "positive number"

# Flag -> (config section, field). Defaults shown in --help come from Config().
_TRAIN_FLAGS = {
    "corpus": ("data", "corpus"),
    "test": ("data", "test"),
    "validation": ("data", "validation"),
    "grammar": ("data", "grammar"),
    "vocabulary": ("data", "vocabulary"),
    "level": ("data", "level"),
    "lowercase": ("data", "lowercase"),
    "max_length": ("data", "max_length"),
    "min_frequency": ("data", "min_frequency"),
    "max_vocab": ("data", "max_vocab_size"),
    "seed": ("training", "seed"),
    "batch_size": ("training", "batch_size"),
    "pretrain_epochs": ("training", "pretrain_epochs"),
    "adversarial_steps": ("training", "adversarial_steps"),
    "beta_max": ("training", "beta_max"),
    "schedule": ("training", "schedule"),
    "loss": ("training", "loss"),
    "deterministic": ("training", "deterministic"),
    "pretrained": ("training", "pretrained_generator"),
    "strategy": ("training", "strategy"),
    "precision": ("training", "precision"),
    "keep_best_mle": ("training", "pretrain_keep_best"),
    "mle_patience": ("training", "pretrain_patience"),
    "mle_lr_decay": ("training", "pretrain_lr_decay"),
    "validation_split": ("data", "validation_split"),
    "keep_best_gan": ("training", "keep_best_gan"),
}


def _default(section: str, name: str):
    return getattr(getattr(Config(), section), name)


def _add_train_parser(commands) -> None:
    p = commands.add_parser(
        "train",
        help="train a GAN on a corpus",
        description="MLE pretraining, then adversarial training with the Gumbel-softmax; "
        "writes a run directory and prints samples and a BLEU report.",
        formatter_class=_Formatter,
    )
    data = p.add_argument_group("data")
    data.add_argument("--corpus", metavar="FILE", help="training corpus, one sentence a line (UTF-8)", default=None)
    data.add_argument("--test", metavar="FILE", help="held-out sentences: BLEU references and NLL_test", default=None)
    data.add_argument("--validation", metavar="FILE", default=None,
                      help="held-out sentences for the MLE phase's validation NLL after each epoch, which picks its "
                      "best epoch and stops it (default: --validation-split of the corpus)")
    data.add_argument("--validation-split", type=float, default=None, metavar="F",
                      help="without --validation, hold out this fraction of the corpus's sentences as the validation "
                      f"corpus (default: {_default('data', 'validation_split')}; 0: none, with --no-keep-best-mle)")
    data.add_argument("--grammar", metavar="PCFG", default=None,
                      help="the grammar the corpus was sampled from: the report adds the fraction of samples it parses")
    data.add_argument("--vocabulary", metavar="FILE", default=None,
                      help="a fixed vocabulary, one token a line (default: built from the corpus)")
    data.add_argument("--level", choices=("word", "char"), default=None, help=f"token level (default: {_default('data', 'level')})")
    data.add_argument("--lowercase", action="store_true", default=None, help="lower-case the text")
    data.add_argument("--min-frequency", type=_positive_int, default=None, metavar="N",
                      help="tokens seen fewer than N times in the corpus become <unk> (default: "
                      f"{_default('data', 'min_frequency')}: every token)")
    data.add_argument("--max-vocab", type=_non_negative_int, default=None, metavar="N",
                      help="keep the N - 4 most frequent tokens (N counts <pad>, <bos>, <eos>, <unk>); the rest "
                      "become <unk> (default: 0, no limit)")
    data.add_argument("--max-length", type=_positive_int, default=None, help=f"most tokens per sentence (default: {_default('data', 'max_length')})")
    tr = p.add_argument_group("training")
    tr.add_argument("--out", metavar="RUN_DIR", required=True, help="the run directory: a new one, or the one to --resume")
    tr.add_argument("--overwrite", action="store_true", help="replace an existing run directory")
    tr.add_argument("--resume", action="store_true",
                    help="continue the killed or interrupted run in --out from its newest checkpoint "
                    "(its own settings and corpus; the flags that started it may be repeated, a "
                    "setting that differs is refused)")
    tr.add_argument("--pretrained", metavar="FILE", default=None,
                    help="skip MLE pretraining: start from an earlier run's generator_mle.keras "
                    "(same corpus and generator settings)")
    tr.add_argument("--keep-best-mle", action=argparse.BooleanOptionalAction, default=None,
                    help="end MLE pretraining with the weights of the epoch with the lowest validation NLL, and stop "
                    "it after --mle-patience epochs without a lower one (default: on)")
    tr.add_argument("--mle-patience", type=_non_negative_int, default=None, metavar="N",
                    help="stop MLE pretraining after N epochs without a lower validation NLL (0: run every epoch; "
                    f"default: {_default('training', 'pretrain_patience')})")
    tr.add_argument("--mle-lr-decay", type=float, default=None, metavar="F",
                    help="after an MLE epoch without a lower validation NLL, go back to the best epoch's weights "
                    "and multiply the learning rate by F, in (0, 1) (0: off; "
                    f"default: {_default('training', 'pretrain_lr_decay')})")
    tr.add_argument("--keep-best-gan", action="store_true", default=None,
                    help="end the run with the generator of the monitored adversarial step (every "
                    "training.sample_every steps; step 0 = the MLE start) farthest above the MLE temperature "
                    "curve: BLEU-5 on --validation (else --test) at equal Self-BLEU-5, mean length within 10%%")
    tr.add_argument("--strategy", choices=("none", "mirrored", "multiworker", "tpu"), default=None,
                    help="tf.distribute: mirrored (local GPUs or logical CPUs), multiworker (cluster from "
                    "TF_CONFIG), tpu; --batch-size is the global batch (default: none)")
    tr.add_argument("--precision", choices=PRECISIONS, default=None,
                    help="mixed_bfloat16: compute in bfloat16, weights and losses in float32 (faster on GPUs "
                    "from Ampere on, TPUs and AVX512-BF16 CPUs) (default: float32)")
    tr.add_argument("--deterministic", action="store_true", default=None,
                    help="turn on TensorFlow's op determinism (slower)")
    tr.add_argument("--seed", type=int, default=None, help=f"random seed (default: {_default('training', 'seed')})")
    tr.add_argument("--batch-size", type=_positive_int, default=None, help=f"sentences per batch (default: {_default('training', 'batch_size')})")
    tr.add_argument("--pretrain-epochs", type=_non_negative_int, default=None, help=f"MLE epochs (default: {_default('training', 'pretrain_epochs')})")
    tr.add_argument("--adversarial-steps", type=_positive_int, default=None, help=f"adversarial iterations (default: {_default('training', 'adversarial_steps')})")
    tr.add_argument("--beta-max", type=_positive_float, default=None, help=f"final inverse temperature 1/tau (default: {_default('training', 'beta_max')})")
    tr.add_argument("--schedule", choices=SCHEDULES, default=None, help=f"temperature schedule (default: {_default('training', 'schedule')})")
    tr.add_argument("--loss", choices=LOSSES, default=None, help=f"GAN loss (default: {_default('training', 'loss')})")
    cfg = p.add_argument_group("configuration")
    cfg.add_argument("--preset", metavar="NAME", default=None,
                     help="start from a shipped preset (seqgan-gumbel presets lists them); --config, --set "
                     "and flags override it")
    cfg.add_argument("--config", metavar="FILE",
                     help="JSON or TOML (.toml) config file with sections data, generator, discriminator, "
                     "training (flags and --set override it)")
    cfg.add_argument(
        "--set", metavar="KEY=VALUE", action="append", default=[],
        help="override one setting, e.g. --set training.discriminator_steps=5 (VALUE is JSON, else a string)",
    )
    cfg.add_argument("-q", "--quiet", action="store_true", help="no progress output (results still on stdout)")
    cfg.add_argument("--log-format", choices=("bar", "jsonl"), default="bar",
                     help="progress on stderr: a live bar, or one JSON object per step for scripts")
    p.set_defaults(handler=_train)


def _add_generate_parser(commands) -> None:
    p = commands.add_parser(
        "generate", help="sample sentences from a trained run", formatter_class=_Formatter,
        description="Prints detokenized sentences, one a line.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="run directory written by train")
    p.add_argument("--num", type=_positive_int, default=10, help="number of sentences")
    p.add_argument("--temperature", type=_positive_float, default=1.0, help="softmax temperature")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: fresh randomness each call)")
    p.add_argument("--output", metavar="FILE", default=None, help="write to FILE instead of stdout")
    p.add_argument("--top-k", type=int, default=0, help="sample among the k most likely tokens (0: all)")
    p.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling: smallest set of tokens with this "
                   "much probability (1.0: off)")
    p.add_argument("--prefix", metavar="TEXT", default=None, help='continue this beginning, e.g. "a man riding"')
    p.add_argument("--unique", action="store_true", help="drop duplicate sentences (sampling more to reach --num)")
    p.add_argument("--format", choices=("text", "jsonl"), default="text",
                   help="text: one sentence a line; jsonl: {text, log_prob, num_tokens} a line")
    p.add_argument("--mle", action="store_true", help="sample the MLE-pretrained generator instead")
    p.add_argument("--precision", choices=PRECISIONS, default=None,
                   help="compute in this precision instead of the run's (mixed_bfloat16: faster on GPUs from "
                   "Ampere on, TPUs and AVX512-BF16 CPUs)")
    p.set_defaults(handler=_generate)


def _add_evaluate_parser(commands) -> None:
    p = commands.add_parser(
        "evaluate", help="BLEU of samples against references", formatter_class=_Formatter,
        description="BLEU-n by the Texygen/RelGAN protocol: every sample scored with nltk's sentence BLEU "
        "(smoothing method1) against ALL references, averaged; Self-BLEU-n: every sample against all the "
        "other samples. Both equal nltk's values exactly and take seconds, not hours.",
    )
    p.add_argument("--samples", metavar="FILE", required=True, help="generated sentences, one a line (a blank line is an empty sentence)")
    p.add_argument("--references", metavar="FILE", default=None, help="reference sentences, one a line")
    p.add_argument("--self-bleu", action="store_true", help="also Self-BLEU: each sample against all the others")
    p.add_argument("--n", type=_positive_int, nargs="+", default=[2, 3, 4, 5], help="BLEU orders")
    p.add_argument("--tokenize", choices=("word", "char", "none"), default="word",
                   help="word: nltk word tokens; char: characters; none: whitespace-separated tokens as they are")
    p.add_argument("--lowercase", action="store_true", help="lower-case both sides first")
    p.add_argument("--grammar", metavar="PCFG", default=None,
                   help="also the fraction of samples this grammar parses, e.g. data/simple_english.pcfg "
                   "(samples split by --tokenize, lower-cased with --lowercase)")
    p.add_argument("--run", metavar="RUN_DIR", default=None,
                   help="also NLL_test: the run's generator's per-token NLL of the --references sentences")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_evaluate)


def _add_presets_parser(commands) -> None:
    p = commands.add_parser("presets", help="list the shipped presets", formatter_class=_Formatter)
    p.add_argument("name", nargs="?", default=None, help="print this preset's full configuration")
    p.set_defaults(handler=_presets)


def _presets(args) -> int:
    from seqgan_gumbel.config import load_preset, preset_description, preset_names

    if args.name:
        print(load_preset(args.name).to_json(), end="")
        return 0
    for name in preset_names():
        print(f"{name:<16} {preset_description(name)}")
    return 0


def _add_report_parser(commands) -> None:
    p = commands.add_parser("report", help="plots and a Markdown report of a run", formatter_class=_Formatter,
                            description="Writes losses.png, temperature.png, metrics.png and report.md "
                            "(settings, final metrics of the MLE and GAN generators, samples).")
    p.add_argument("run_dir", metavar="RUN_DIR", help="run directory written by train")
    p.add_argument("--out", metavar="DIR", default=None, help="output folder (default: RUN_DIR/report)")
    p.set_defaults(handler=_report)


def _add_show_parser(commands) -> None:
    p = commands.add_parser("show", help="print a run's resolved configuration and progress",
                            formatter_class=_Formatter)
    p.add_argument("run_dir", metavar="RUN_DIR", help="run directory written by train")
    p.set_defaults(handler=_show)


def _add_sweep_parser(commands) -> None:
    p = commands.add_parser(
        "evaluate-sweep", help="quality-diversity frontier: BLEU vs Self-BLEU over sampling temperatures",
        formatter_class=_Formatter,
        description="Samples each run's adversarial and MLE-pretrained generators at several softmax "
        "temperatures and scores BLEU-n and Self-BLEU-n at each (Caccia et al. 2018): a GAN is better "
        "than MLE only if its point lies above the MLE temperature curve. Writes JSON and a PNG plot.",
    )
    p.add_argument("run_dirs", metavar="RUN_DIR", nargs="+", help="run directories written by train")
    p.add_argument("--references", metavar="FILE", required=True, help="reference sentences, e.g. the test set")
    p.add_argument("--temperatures", type=_positive_float, nargs="+",
                   default=[0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0], help="sampling temperatures")
    p.add_argument("--num", type=_positive_int, default=1000, help="samples per temperature and generator")
    p.add_argument("--n", type=_positive_int, nargs="+", default=[2, 3, 4, 5], help="BLEU orders")
    p.add_argument("--plot-n", type=_positive_int, default=5, help="the order plotted")
    p.add_argument("--seed", type=int, default=0, help="sampling seed")
    p.add_argument("--no-mle", action="store_true", help="skip the MLE-pretrained generators")
    p.add_argument("--oracle", metavar="NPZ", default=None,
                   help="the SeqGAN oracle's weights (seqgan_oracle_params.npz), for runs on its samples: "
                   "adds NLL_oracle at each temperature")
    p.add_argument("--out", metavar="PREFIX", required=True, help="writes PREFIX.json and PREFIX.png")
    p.set_defaults(handler=_evaluate_sweep)


def _add_oracle_parser(commands) -> None:
    p = commands.add_parser(
        "oracle", help="the SeqGAN synthetic-data benchmark (NLL_oracle)", formatter_class=_Formatter,
        description="The SeqGAN oracle LSTM (vocabulary 5,000, length 20) with the published weights: "
        "sample its training/test corpora, or score a generator's samples by the oracle's NLL.",
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=_Parser)
    sample = actions.add_parser("sample", help="write train.txt and test.txt sampled from the oracle",
                                formatter_class=_Formatter)
    sample.add_argument("--weights", metavar="NPZ", required=True, help="seqgan_oracle_params.npz")
    sample.add_argument("--out", metavar="DIR", required=True, help="folder for train.txt and test.txt")
    sample.add_argument("--num-train", type=_positive_int, default=10000, help="training sequences")
    sample.add_argument("--num-test", type=_positive_int, default=10000, help="test sequences")
    sample.add_argument("--seed", type=int, default=0, help="training seed; the test set uses seed + 1")
    sample.add_argument("--length", type=_positive_int, default=20, help="tokens per sequence (RelGAN: 20 or 40)")
    sample.set_defaults(handler=_oracle_sample)
    score = actions.add_parser("score", help="NLL_oracle of samples (ids separated by spaces, 20 a line)",
                               formatter_class=_Formatter)
    score.add_argument("--weights", metavar="NPZ", required=True, help="seqgan_oracle_params.npz")
    score.add_argument("--samples", metavar="FILE", required=True, help="generated sequences")
    score.add_argument("--length", type=_positive_int, default=20, help="tokens per sequence (RelGAN: 20 or 40)")
    score.add_argument("--json", action="store_true", help="print one JSON object")
    score.set_defaults(handler=_oracle_score)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = _Parser(prog=PROG, description="Gumbel-softmax GANs for text.", formatter_class=_Formatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    _add_train_parser(commands)
    _add_generate_parser(commands)
    _add_evaluate_parser(commands)
    _add_sweep_parser(commands)
    _add_oracle_parser(commands)
    _add_show_parser(commands)
    _add_report_parser(commands)
    _add_presets_parser(commands)
    return parser


def config_from_args(args: argparse.Namespace, origins: dict[str, str] | None = None) -> Config:
    """The run config: defaults, then --preset, then --config FILE, then --set, then flags.

    Args:
        args: the parsed train command line.
        origins: if given, filled with every setting the command line names, as
            dotted key -> the option that named it (a preset or config file
            names the settings it changes).

    Returns:
        The validated config.
    """
    from seqgan_gumbel.config import load_preset

    origins = {} if origins is None else origins
    config = Config()
    if args.preset:
        config = _note_changes(config, load_preset(args.preset), f"--preset {args.preset}", origins)
    if args.config:
        config = _note_changes(config, Config.from_dict(config.to_dict()).update_from_file(args.config),
                               f"--config {args.config}", origins)
    for item in args.set:
        key, sep, raw = item.partition("=")
        if not sep:
            raise UserInputError(f"--set {item!r}: expected KEY=VALUE")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        config.set(key.strip(), value, source=f"--set {item}")
        origins[key.strip()] = f"--set {item}"
    for flag, (section, name) in _TRAIN_FLAGS.items():
        value = getattr(args, flag)
        if value is not None:
            setattr(getattr(config, section), name, value)
            origins[f"{section}.{name}"] = f"--{flag.replace('_', '-')}"
    t = config.training
    if not t.pretrain_keep_best and t.pretrain_lr_decay:
        # The decay goes back to the best epoch's weights, so it is part of keep-best:
        # without it the default decay is off (recorded as 0), and an explicit one is refused.
        if "training.pretrain_lr_decay" in origins:
            raise UserInputError("training.pretrain_lr_decay goes back to the best MLE epoch's weights: it needs "
                                 "training.pretrain_keep_best (--keep-best-mle)")
        t.pretrain_lr_decay = 0.0
    return config.validate()


def _note_changes(before: Config, after: Config, origin: str, origins: dict[str, str]) -> Config:
    old = before.to_dict()
    for section, values in after.to_dict().items():
        if isinstance(values, dict):
            origins.update({f"{section}.{k}": origin for k, v in values.items() if old[section][k] != v})
    return after


def _quiet_tensorflow() -> None:
    from seqgan_gumbel.quiet_tf import import_tensorflow

    import_tensorflow()


def _train(args) -> int:
    from seqgan_gumbel.training.prepare import prepare_resume, prepare_run

    # Every input is checked before TensorFlow loads: bad input fails in a
    # fraction of a second and leaves nothing behind.
    if args.resume:
        if args.overwrite:
            raise UserInputError("--resume continues the run in --out and --overwrite would replace it: drop one")
        # The command that started the run, re-run with --resume, is accepted:
        # only a setting that differs from the run's own is refused.
        origins: dict[str, str] = {}
        given = config_from_args(args, origins)
        settings = {}
        for key, origin in origins.items():
            section, _, name = key.partition(".")
            settings[key] = (getattr(getattr(given, section), name), origin)
        prepared = prepare_resume(args.out, settings)
    else:
        prepared = prepare_run(config_from_args(args), args.out, overwrite=args.overwrite)
    _quiet_tensorflow()
    from seqgan_gumbel.training.run import train_prepared

    log = (lambda message: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    result = train_prepared(prepared, log=log, progress="none" if args.quiet else args.log_format)
    print(format_report(result.metrics, result.samples[:10], result.run_dir))
    return 0


def format_report(metrics: dict, samples: list[str], run_dir: Path) -> str:
    """The human-readable end-of-training report."""
    lines = [f"Run directory: {run_dir}", "", "Samples:"]
    lines += [f"  {s}" for s in samples]
    lines += ["", f"BLEU against the {metrics['references']} sentences ({metrics['num_samples']} samples, "
              f"{metrics['num_references']} references):"]
    from seqgan_gumbel.evaluation.scorer import bleu_signature, format_scores

    lines.append(f"  after adversarial training: {format_scores(metrics)}")
    if "mle" in metrics:
        lines.append(f"  after MLE pretraining only: {format_scores(metrics['mle'])}")
    lines.append(f"  ({bleu_signature(metrics)}; NLL in nats per token)")
    kept = metrics.get("keep_best_gan")
    if kept:
        lines.append(f"  (--keep-best-gan: the generator of adversarial step {kept['step']}"
                     + (", the MLE start" if kept["step"] == 0 else "")
                     + f"; frontier gap {kept['frontier_gap']:+.4f} BLEU-5 against the {kept['references']} "
                     "sentences at equal Self-BLEU-5)")
    if "frontier" in metrics:
        from seqgan_gumbel.evaluation.frontier import verdict_lines

        heading, *rest = verdict_lines(metrics["frontier"])
        lines += ["", heading] + [f"  {line}" for line in rest]
    return "\n".join(lines)


def _generate(args) -> int:
    from seqgan_gumbel.rundir import RunDirectory

    RunDirectory(args.run_dir).require_run()
    if args.output and Path(args.output).is_dir():
        raise UserInputError(f"{args.output}: is a directory, expected an output file")
    _quiet_tensorflow()
    from seqgan_gumbel.generation import generate_sentences
    from seqgan_gumbel.rundir import GENERATOR_FILE, MLE_GENERATOR_FILE

    sentences = generate_sentences(
        args.run_dir, args.num, args.temperature, args.seed, model=MLE_GENERATOR_FILE if args.mle else GENERATOR_FILE,
        top_k=args.top_k, top_p=args.top_p, prefix=args.prefix, unique=args.unique, precision=args.precision,
    )
    if len(sentences) < args.num:
        print(f"{PROG}: note: only {len(sentences)} distinct sentences found", file=sys.stderr)
    if args.format == "jsonl":
        text = "".join(json.dumps(s.to_dict(), ensure_ascii=False) + "\n" for s in sentences)
    else:
        text = "".join(s.text + "\n" for s in sentences)
    if args.output:
        from seqgan_gumbel.fileio import atomic_write_text

        atomic_write_text(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def _evaluate(args) -> int:
    from seqgan_gumbel.evaluation.files import score_files

    if args.references is None and not args.self_bleu and not args.grammar:
        raise UserInputError("nothing to compute: give --references FILE, --self-bleu or --grammar PCFG")
    if args.run and args.references is None:
        raise UserInputError("--run needs --references FILE: the sentences whose NLL is measured")
    scores = score_files(args.samples, args.references, args.n, args.tokenize, args.lowercase, args.self_bleu,
                         grammar=args.grammar)
    if args.run:
        scores = scores.with_figure("nll_test", *_run_nll(args.run, args.references))
    if args.json:
        print(json.dumps(scores.to_dict()))
        return 0
    signatures = scores.signatures
    if scores.grammar_validity is not None:
        print(f"grammar validity: {scores.grammar_validity:.4f}  ({signatures['grammar_validity']})")
    if scores.nll_test is not None:
        print(f"NLL_test: {scores.nll_test:.4f} nats/token  ({signatures['nll_test']})")
    results = {name: r for name, r in (("bleu", scores.bleu), ("self_bleu", scores.self_bleu)) if r is not None}
    if not results:
        return 0
    first = next(iter(results.values()))
    labels = {"bleu": "BLEU", "self_bleu": "Self-BLEU"}
    print(f"{'n':>2}  " + "  ".join(f"{labels[name]:>9}" for name in results))
    for n in first.scores:
        print(f"{n:>2}  " + "  ".join(f"{r.scores[n]:>9.4f}" for r in results.values()))
    print(f"samples: {first.num_samples}" + (f", references: {results['bleu'].num_references}" if "bleu" in results else ""))
    for r in results.values():
        print(r.signature)
    return 0


def _report(args) -> int:
    from seqgan_gumbel.evaluation.report import write_report
    from seqgan_gumbel.rundir import RunDirectory

    RunDirectory(args.run_dir).require_run()
    for name, path in write_report(args.run_dir, args.out).items():
        print(f"{name}: {path}")
    return 0


def _show(args) -> int:
    from seqgan_gumbel.rundir import METRICS_FILE, RunDirectory

    run = RunDirectory(args.run_dir)
    config = run.load_config()
    print(config.to_json(), end="")
    newest = run.newest_checkpoint()
    print(f"# newest checkpoint: {newest[0].name if newest else 'none'}")
    if run.file(METRICS_FILE).exists():
        print(f"# finished; final metrics in {run.file(METRICS_FILE)}")
    return 0


def _evaluate_sweep(args) -> int:
    from seqgan_gumbel.rundir import RunDirectory

    for run_dir in args.run_dirs:
        RunDirectory(run_dir).require_run()
    if args.plot_n not in args.n:
        raise UserInputError(f"--plot-n {args.plot_n} is not among --n {args.n}")
    _quiet_tensorflow()
    from seqgan_gumbel.evaluation.sweep import temperature_sweep, write_sweep

    oracle_weights = None
    if args.oracle:
        from seqgan_gumbel.corpus.oracle import load_oracle_weights

        oracle_weights = load_oracle_weights(args.oracle)
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    curves = temperature_sweep(args.run_dirs, args.references, args.temperatures, args.num, tuple(args.n),
                               args.seed, include_mle=not args.no_mle, log=log, oracle_weights=oracle_weights)
    json_path, png_path = f"{args.out}.json", f"{args.out}.png"
    write_sweep(curves, json_path, png_path, n=args.plot_n)
    n = args.plot_n
    oracle_header = f" {'NLL_oracle':>10} {'scored':>7}" if oracle_weights is not None else ""
    print(f"{'curve':<28} {'T':>5} {'BLEU-' + str(n):>8} {'Self-BLEU-' + str(n):>12}{oracle_header}")
    for curve in curves:
        for temperature, self_bleu_n, bleu_n in curve.points(n):
            oracle_cells = ""
            if oracle_weights is not None:
                entry = curve.nll_oracle[temperature]
                nll = "-" if entry["nll"] is None else f"{entry['nll']:.3f}"
                oracle_cells = f" {nll:>10} {entry['scored']:>7}"
            print(f"{curve.label:<28} {temperature:>5.2f} {bleu_n:>8.3f} {self_bleu_n:>12.3f}{oracle_cells}")
    print(f"wrote {json_path} and {png_path}")
    return 0


def _run_nll(run_dir: str, references: str) -> tuple[float, str]:
    from seqgan_gumbel.rundir import RunDirectory

    run = RunDirectory(run_dir)
    run.require_run()
    _quiet_tensorflow()
    from seqgan_gumbel.evaluation.likelihood import nll_test_signature, run_nll

    nll, stats = run_nll(run_dir, references)
    return nll, nll_test_signature(stats, run.load_tokenizer().level)


def _oracle_sample(args) -> int:
    _quiet_tensorflow()
    from seqgan_gumbel.corpus.oracle import make_oracle_corpus

    result = make_oracle_corpus(args.weights, args.out, args.num_train, args.num_test, args.seed, args.seed + 1,
                                args.length)
    print(json.dumps(result, indent=2))
    return 0


def _oracle_score(args) -> int:
    _quiet_tensorflow()
    from seqgan_gumbel.corpus.oracle import Oracle, load_oracle_weights, nll_oracle_signature, read_sequences

    weights = load_oracle_weights(args.weights)
    sequences = read_sequences(args.samples, sequence_length=args.length)
    nll = Oracle(weights, sequence_length=args.length).nll(sequences)
    signature = nll_oracle_signature(Path(args.weights).name, args.length, len(sequences))
    if args.json:
        print(json.dumps({"nll_oracle": nll, "num_samples": len(sequences), "signature": signature}))
    else:
        print(f"NLL_oracle: {nll:.4f} nats/token  ({signature})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status.

    Bad input (UserInputError) is one line on stderr and status 2.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except UserInputError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except TrainingInterrupted as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 130
    except TrainingDiverged as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Runs a preset end to end (pretrain, adversarial, evaluate) and records the result.

    python benchmarks/run_preset.py --preset quick-oracle20 --seed 1
    python benchmarks/run_preset.py --preset quick-coco --seed 1

Data come from ../shared/datasets (never copied into the project): the oracle
presets sample the SeqGAN oracle's 10,000-sequence training and test sets
first; the coco presets use coco/train.txt and coco/test.txt; gsgan uses data/arithmetic (with
its grammar's validity); the emnlp
presets train on the first 9,000 lines of emnlp_news/test.txt and test on the
last 1,000 (the training split is not available here). The evaluation follows
../shared/REFERENCE.md: 10,000 samples, BLEU-2..5 against every reference,
Self-BLEU-2..5 leave-one-out, NLL_test on the test split, NLL_oracle for the
oracle presets, for both the MLE-pretrained and the adversarial generator.
With --keep-best-mle, MLE pretraining ends with its best epoch on a
validation corpus: 2,000 fresh oracle samples (seed 2) for the oracle presets,
the last 1,000 training sentences (held out, not trained on) for the others.
The record (config, seed, versions, machine, wall time, metrics) is written to
benchmarks/results/<preset>-seed<N>.json; benchmarks/results_table.py turns
the records into the table of docs/results.md (--write docs/results.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seqgan_gumbel.quiet_tf import import_tensorflow  # noqa: E402

tf = import_tensorflow()

import seqgan_gumbel  # noqa: E402
from seqgan_gumbel.config import load_preset  # noqa: E402
from seqgan_gumbel.corpus.loading import read_lines  # noqa: E402
from seqgan_gumbel.generation import sample_ids  # noqa: E402
from seqgan_gumbel.evaluation.likelihood import nll_test_signature, run_nll  # noqa: E402
from seqgan_gumbel.evaluation.scorer import SampleScorer  # noqa: E402
from seqgan_gumbel.rundir import GENERATOR_FILE, MLE_GENERATOR_FILE, MLE_METRICS_FILE, RunDirectory  # noqa: E402
from seqgan_gumbel.training.run import train  # noqa: E402

ORDERS = (2, 3, 4, 5)


def prepare_data(preset: str, shared: Path, work: Path) -> tuple[str, str, Path | None, str]:
    """(train file, test file, oracle weights or None, vocabulary file or "") for a preset.

    The oracle presets get the oracle's whole vocabulary (ids 0..4,999 as
    tokens), so that no test token is unknown because the training sample
    happened to miss it.
    """
    datasets = shared / "datasets"
    base = preset.removeprefix("quick-")
    if base.startswith("oracle"):
        from seqgan_gumbel.corpus.oracle import Oracle, load_oracle_weights, make_oracle_corpus

        weights = datasets / "oracle" / "seqgan_oracle_params.npz"
        length = 40 if base == "oracle40" else 20
        made = make_oracle_corpus(weights, work / "oracle_data", 10_000, 10_000, 0, 1, sequence_length=length)
        vocabulary = work / "oracle_data" / "vocabulary.txt"
        vocabulary.write_text("".join(f"{i}\n" for i in range(Oracle(load_oracle_weights(weights)).vocab_size)))
        return made["train"], made["test"], weights, str(vocabulary)
    if base.startswith("coco"):
        return str(datasets / "coco" / "train.txt"), str(datasets / "coco" / "test.txt"), None, ""
    if base == "gsgan":  # Kusner & Hernandez-Lobato's task: the project's own arithmetic corpus
        return (str(ROOT / "data" / "arithmetic" / "train.txt"), str(ROOT / "data" / "arithmetic" / "test.txt"),
                None, "")
    lines = read_lines(datasets / "emnlp_news" / "test.txt")
    (work / "emnlp").mkdir(parents=True, exist_ok=True)
    (work / "emnlp" / "train.txt").write_text("".join(s + "\n" for s in lines[:9000]), encoding="utf-8")
    (work / "emnlp" / "test.txt").write_text("".join(s + "\n" for s in lines[9000:]), encoding="utf-8")
    return str(work / "emnlp" / "train.txt"), str(work / "emnlp" / "test.txt"), None, ""


def make_scorer(run_dir: Path, test_file: str, weights: Path | None, grammar: str = "") -> SampleScorer:
    """The benchmark's scorer: BLEU and Self-BLEU-2..5 on the test split, validity, NLL_oracle (built once a run)."""
    run = RunDirectory(run_dir)
    tokenizer = run.load_tokenizer()
    checker, oracle = None, None
    if grammar:
        from seqgan_gumbel.corpus.grammar import GrammarChecker, load_grammar

        checker = GrammarChecker(load_grammar(grammar))
    if weights is not None:
        from seqgan_gumbel.corpus.oracle import Oracle, load_oracle_weights

        oracle = Oracle(load_oracle_weights(weights), sequence_length=run.load_config().data.max_length)
    return SampleScorer([tokenizer.tokenize(s) for s in read_lines(test_file)], tokenizer.level, ORDERS,
                        grammar_checker=checker, grammar_name=Path(grammar).name if grammar else "",
                        oracle=oracle, oracle_name=weights.name if weights is not None else "")


def evaluate(run_dir: Path, model: str, test_file: str, scorer: SampleScorer, num: int, seed: int) -> dict:
    """`SampleScores.to_dict()` of `num` samples of one of the run's generators, with its NLL_test."""
    run = RunDirectory(run_dir)
    tokenizer = run.load_tokenizer()
    generator = run.load_generator(model, tokenizer)
    ids = sample_ids(generator, num, seed=seed)
    scores = scorer.score([tokenizer.ids_to_tokens(row) for row in ids])
    nll, stats = run_nll(run_dir, test_file, model)
    return scores.with_figure("nll_test", nll, nll_test_signature(stats, tokenizer.level, model)).to_dict()


VALIDATION_SIZE = {"oracle": 2_000, "other": 1_000}


def add_validation(config, weights: Path | None, work: Path) -> None:
    """Gives `config` a validation corpus for `training.pretrain_keep_best` (see the module's docstring)."""
    folder = work / "validation"
    folder.mkdir(parents=True, exist_ok=True)
    if weights is not None:
        from seqgan_gumbel.corpus.oracle import Oracle, load_oracle_weights, write_sequences

        oracle = Oracle(load_oracle_weights(weights), sequence_length=config.data.max_length)
        # Seeds 0 and 1 drew the training and test sets.
        write_sequences(folder / "validation.txt", oracle.sample(VALIDATION_SIZE["oracle"], seed=2))
    else:
        lines = read_lines(config.data.corpus)
        held_out = VALIDATION_SIZE["other"]
        (folder / "train.txt").write_text("".join(s + "\n" for s in lines[:-held_out]), encoding="utf-8")
        (folder / "validation.txt").write_text("".join(s + "\n" for s in lines[-held_out:]), encoding="utf-8")
        config.data.corpus = str(folder / "train.txt")
    config.data.validation = str(folder / "validation.txt")
    config.training.pretrain_keep_best = True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "benchmarks", help="run directories")
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--pretrained", type=Path, default=None,
                        help="skip MLE pretraining: start from this generator_mle.keras (same corpus and model)")
    parser.add_argument("--tag", default="", help="suffix of the record's file name, e.g. a variant's name")
    parser.add_argument("--note", default="", help="recorded with the result (e.g. how an interrupted run went)")
    parser.add_argument("--keep-best-mle", action="store_true",
                        help="end MLE pretraining with its best epoch on a validation corpus (see above)")
    parser.add_argument("--resume", action="store_true",
                        help="continue this preset/seed's killed run from its newest checkpoint")
    args = parser.parse_args(argv)
    if args.keep_best_mle and not args.tag:
        args.tag = "keep-best-mle"
    if not (args.shared / "datasets").is_dir():
        print(f"benchmark data not found under {args.shared}/datasets; pass --shared", file=sys.stderr)
        return 2
    started = time.perf_counter()
    name = f"{args.preset}-seed{args.seed}" + (f"-{args.tag}" if args.tag else "")
    work = args.work / name
    config = load_preset(args.preset)
    config.data.corpus, config.data.test, weights, config.data.vocabulary = prepare_data(args.preset, args.shared,
                                                                                        work)
    if args.keep_best_mle:
        add_validation(config, weights, work)
    if args.preset.removeprefix("quick-") == "gsgan":
        config.data.grammar = str(ROOT / "data" / "arithmetic.pcfg")
    config.training.seed = args.seed
    if args.pretrained:
        config.training.pretrained_generator = str(args.pretrained)
    run_dir = work / "run"
    if args.resume:
        from seqgan_gumbel.training.prepare import prepare_resume
        from seqgan_gumbel.training.run import train_prepared

        train_prepared(prepare_resume(run_dir), progress="bar")
    else:
        train(config, run_dir, overwrite=run_dir.exists(), progress="bar")
    train_seconds = time.perf_counter() - started
    scorer = make_scorer(run_dir, config.data.test, weights, config.data.grammar)
    record = {
        "preset": args.preset + (f" ({args.tag})" if args.tag else ""),
        "seed": args.seed,
        "config": config.to_dict(),
        "metrics": {
            "mle": evaluate(run_dir, MLE_GENERATOR_FILE, config.data.test, scorer, args.samples, args.seed),
            "gan": evaluate(run_dir, GENERATOR_FILE, config.data.test, scorer, args.samples, args.seed),
        },
        # The epoch --keep-best-mle kept (None without it).
        "mle_best_epoch": RunDirectory(run_dir).read_json(MLE_METRICS_FILE).get("best_epoch"),
        "train_seconds": round(train_seconds, 1),
        "resumed": args.resume,
        "note": args.note,
        "total_seconds": round(time.perf_counter() - started, 1),
        "versions": {"seqgan_gumbel": seqgan_gumbel.__version__, "tensorflow": tf.__version__,
                     "python": platform.python_version()},
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.processor() or platform.system()}"
                   + (f", GPU: {tf.config.list_physical_devices('GPU')}" if tf.config.list_physical_devices("GPU") else ""),
        "date": time.strftime("%Y-%m-%d"),
    }
    out = ROOT / "benchmarks" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record["metrics"], indent=2))
    print(f"wrote {out} ({record['total_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

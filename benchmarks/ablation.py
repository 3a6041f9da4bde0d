#!/usr/bin/env python3
"""Adversarial-phase variants against their own MLE start, over several seeds.

    python benchmarks/ablation.py --preset quick-gsgan --seeds 1 2 3 4 5 \\
        --variant shipped --variant st training.straight_through=true

For each seed the preset's MLE phase runs once (the first variant's run); every
variant's adversarial phase then starts from that same generator_mle.keras
(`--pretrained`), so variants differ only in what they name. Each generator,
the MLE start and every variant's GAN, is swept over sampling temperatures
(same seed at every temperature) and scored as ../shared/REFERENCE.md says:
BLEU-5 against every test sentence, Self-BLEU-5 leave-one-out, plus the mean
sample length, the fraction of distinct samples and, for quick-gsgan, grammar
validity, for the oracle presets NLL_oracle (lower is better). Each GAN
point is compared with its MLE curve at the same Self-BLEU-5
(benchmarks/frontier_gap.py): BLEU-5 and, on oracle data, NLL_oracle. `--preset default` is the
settings of `seqgan-gumbel train` with no preset on the embedded corpus
(data/simple_english, with its grammar's validity), what `make demo` runs;
`--data coco` or `--data emnlp` trains any preset (the defaults included) on
that benchmark corpus instead, as a new user would run the defaults on real
text, and `--set KEY=VALUE` changes a setting for every variant and the shared
MLE phase (e.g. `--set data.max_length=37` for COCO's longest captions). A variant whose settings change
MLE pretraining (e.g. data.*) gets its own MLE phase: mark it with a leading
"+", e.g. `--variant +padded training.after_eos=relaxed`.

The printed table is the result; the JSON record (settings, every point, the
machine) goes to benchmarks/results/ablations/<name>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from seqgan_gumbel.quiet_tf import import_tensorflow  # noqa: E402

tf = import_tensorflow()

import seqgan_gumbel  # noqa: E402
from seqgan_gumbel.config import load_preset  # noqa: E402
from seqgan_gumbel.corpus.loading import read_lines  # noqa: E402
from seqgan_gumbel.evaluation.frontier import interpolate  # noqa: E402
from seqgan_gumbel.metrics.bleu import BleuScorer  # noqa: E402
from seqgan_gumbel.rundir import GENERATOR_FILE, MLE_GENERATOR_FILE, RunDirectory  # noqa: E402
from seqgan_gumbel.evaluation.sweep import sweep_run  # noqa: E402
from seqgan_gumbel.training.run import train  # noqa: E402

from frontier_gap import gaps as frontier_gaps  # noqa: E402
from run_preset import add_validation, prepare_data  # noqa: E402


def _parse_variant(words: list[str]) -> tuple[str, bool, dict]:
    name, own_mle = words[0], words[0].startswith("+")
    settings = {}
    for item in words[1:]:
        key, _, value = item.partition("=")
        try:
            settings[key] = json.loads(value)
        except json.JSONDecodeError:
            settings[key] = value  # a bare string, e.g. training.loss=rsgan
    return name.lstrip("+"), own_mle, settings


def _load(preset: str):
    from seqgan_gumbel.config import Config

    return Config() if preset == "default" else load_preset(preset)


def _grammar_validity(run_dir: Path, model: str, grammar: str, num: int, seed: int, temperature: float):
    from seqgan_gumbel.generation import sample_ids
    from seqgan_gumbel.corpus.grammar import GrammarChecker, load_grammar

    run = RunDirectory(run_dir)
    tokenizer = run.load_tokenizer()
    ids = sample_ids(run.load_generator(model, tokenizer), num, temperature=temperature, seed=seed)
    return GrammarChecker(load_grammar(grammar)).validity([tokenizer.ids_to_tokens(row) for row in ids])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--variant", nargs="+", action="append", required=True, metavar="NAME [KEY=VALUE ...]",
                        help="a variant: a name and settings (dotted keys, JSON values); '+NAME': own MLE phase")
    parser.add_argument("--temperatures", type=float, nargs="+", default=[0.8, 0.9, 1.0, 1.1])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--keep-best-mle", action="store_true")
    parser.add_argument("--data", choices=["coco", "emnlp"], default=None,
                        help="train on this benchmark corpus instead of the preset's own (the default corpus's)")
    parser.add_argument("--set", dest="common", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting for every variant and the shared MLE phase (repeatable)")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "ablation")
    parser.add_argument("--name", default="", help="the record's file name (default: preset and variants)")
    parser.add_argument("--reuse-finished", action="store_true",
                        help="score a variant's finished run in --work (generator.keras and metrics.json) instead of "
                             "training it again: finish a measurement that was stopped between runs")
    parser.add_argument("--mle-from", type=Path, default=None,
                        help="a folder holding seed<N>/run/generator_mle.keras from an earlier ablation: reuse them")
    args = parser.parse_args(argv)
    variants = [_parse_variant(words) for words in args.variant]
    common = _parse_variant(["common", *args.common])[2]
    dataset = args.data or args.preset
    name = args.name or f"{args.preset}-" + (f"{args.data}-" if args.data else "") + "-".join(v[0] for v in variants)
    grammars = {"quick-gsgan": "arithmetic.pcfg", "gsgan": "arithmetic.pcfg", "default": "simple_english.pcfg"}
    grammar = str(ROOT / "data" / grammars[dataset]) if dataset in grammars else ""
    record = {"preset": args.preset, "data": dataset, "common_settings": common, "seeds": args.seeds,
              "temperatures": args.temperatures,
              "samples": args.samples, "keep_best_mle": args.keep_best_mle,
              "variants": {v[0]: v[2] for v in variants}, "runs": {}}
    started = time.perf_counter()
    for seed in args.seeds:
        work = args.work / (f"{args.preset}-{args.data}" if args.data else args.preset) / f"seed{seed}"
        base = _load(args.preset)
        for key, value in common.items():
            base.set(key, value, source="--set")
        if dataset == "default":
            base.data.corpus, base.data.test, weights = (str(ROOT / "data" / "simple_english" / "train.txt"),
                                                         str(ROOT / "data" / "simple_english" / "test.txt"), None)
        else:
            base.data.corpus, base.data.test, weights, base.data.vocabulary = prepare_data(dataset, args.shared, work)
        if args.keep_best_mle:
            add_validation(base, weights, work)
        base.data.grammar = grammar
        base.training.seed = seed
        shared_mle = (args.mle_from / f"seed{seed}" / "run" / MLE_GENERATOR_FILE) if args.mle_from else None
        references = [s for s in read_lines(base.data.test)]
        scorer = None
        oracle = None
        if weights is not None:  # the oracle presets: NLL_oracle at every point
            from seqgan_gumbel.corpus.oracle import Oracle, load_oracle_weights

            oracle = Oracle(load_oracle_weights(weights), sequence_length=base.data.max_length)
        seed_record = {}
        for index, (variant, own_mle, settings) in enumerate(variants):
            config = _load(args.preset)
            config.data = base.data
            config.training.seed = seed
            config.training.pretrain_keep_best = base.training.pretrain_keep_best
            for key, value in common.items():
                if not key.startswith("data."):  # base.data already holds them
                    config.set(key, value, source="--set")
            for key, value in settings.items():
                config.set(key, value, source=f"variant {variant}")
            config.validate()
            run_dir = work / ("run" if index == 0 else variant)
            if shared_mle is not None and not own_mle:
                config.training.pretrained_generator = str(shared_mle)
            elif index > 0 and not own_mle:
                config.training.pretrained_generator = str(work / "run" / MLE_GENERATOR_FILE)
            finished = (run_dir / GENERATOR_FILE).is_file() and (run_dir / "metrics.json").is_file()
            if args.reuse_finished and finished:
                if RunDirectory(run_dir).load_config().to_dict() != config.to_dict():
                    raise SystemExit(f"{run_dir}: a finished run with other settings; remove it or drop --reuse-finished")
                seconds = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))["train_seconds"]
                print(f"seed {seed}, {variant}: reusing the finished run {run_dir}", flush=True)
            else:
                t0 = time.perf_counter()
                train(config, run_dir, overwrite=run_dir.exists(), progress="none", log=lambda m: None)
                seconds = time.perf_counter() - t0
            run = RunDirectory(run_dir)
            tokenizer = run.load_tokenizer()
            if scorer is None:
                scorer = BleuScorer([tokenizer.tokenize(s) for s in references], max_n=5)
            models = [GENERATOR_FILE] if (index > 0 and not own_mle) else [MLE_GENERATOR_FILE, GENERATOR_FILE]
            for model in models:
                curve = sweep_run(run_dir, model, None, args.temperatures, args.samples, (2, 3, 4, 5), seed,
                                  scorer=scorer, tokenizer=tokenizer, oracle=oracle)
                entry = curve.to_dict()
                if grammar:
                    entry["grammar_validity"] = {repr(t): _grammar_validity(run_dir, model, grammar, args.samples,
                                                                             seed, t) for t in args.temperatures}
                key = ("mle" if index == 0 else f"mle:{variant}") if model == MLE_GENERATOR_FILE else variant
                seed_record[key] = entry
            seed_record[variant]["adversarial_seconds"] = round(seconds, 1)
        for variant, own_mle, _ in variants:
            mle_key = f"mle:{variant}" if own_mle and variant != variants[0][0] else "mle"
            seed_record[variant]["gaps"] = frontier_gaps(seed_record[variant], seed_record[mle_key])
            if grammar:
                seed_record[variant]["validity_gaps"] = validity_gaps(seed_record[variant], seed_record[mle_key])
        record["runs"][str(seed)] = seed_record
        _print_seed(seed, seed_record, variants, grammar)
        # After every seed, so that a long measurement stopped later keeps its finished seeds.
        out = _write_record(record, name, started, complete=seed == args.seeds[-1])
    _print_summary(record, variants)
    print(f"wrote {out} ({record['total_seconds']:.0f} s)")
    return 0


def validity_gaps(gan: dict, mle: dict) -> dict:
    """Grammar validity against the MLE curve's at the same mean sample length, per GAN temperature.

    Longer expressions are invalid more often at any temperature, so a GAN
    that writes longer sentences than its MLE start is compared with the part
    of the MLE temperature curve that writes as long ones. None where the MLE
    curve does not reach the GAN's length (no extrapolation).

    Args:
        gan, mle: two entries of a seed's record (with mean_length and grammar_validity).

    Returns:
        temperature key -> GAN validity minus the MLE curve's at its length, or None.
    """
    curve = [(mle["mean_length"][t], mle["grammar_validity"][t]) for t in mle["mean_length"]]
    out = {}
    for t, length in gan["mean_length"].items():
        reference = interpolate(curve, length)
        out[t] = None if reference is None else gan["grammar_validity"][t] - reference
    return out


def _write_record(record: dict, name: str, started: float, complete: bool) -> Path:
    record.update(
        complete=complete,
        total_seconds=round(time.perf_counter() - started, 1),
        versions={"seqgan_gumbel": seqgan_gumbel.__version__, "tensorflow": tf.__version__,
                  "python": platform.python_version()},
        machine=f"{platform.machine()}, {os.cpu_count()} CPUs",
        date=time.strftime("%Y-%m-%d"),
    )
    out = ROOT / "benchmarks" / "results" / "ablations" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return out


def _row(label: str, entry: dict, t: str, grammar: str) -> str:
    text = (f"  {label:<22} T={float(t):<4g} BLEU-5 {entry['bleu'][t]['5']:.3f}  Self-BLEU-5 "
            f"{entry['self_bleu'][t]['5']:.3f}  length {entry['mean_length'][t]:5.2f}  "
            f"distinct {entry['distinct'][t]:.3f}")
    if grammar:
        text += f"  valid {entry['grammar_validity'][t]:.3f}"
    nll = (entry.get("nll_oracle", {}).get(t) or {}).get("nll")
    if nll is not None:
        text += f"  NLL_oracle {nll:.3f}"
    return text


def _print_seed(seed: int, seed_record: dict, variants, grammar: str) -> None:
    print(f"seed {seed}:")
    for key, entry in seed_record.items():
        for t in entry["bleu"]:
            line = _row(key, entry, t, grammar)
            gap = next((g for g in entry.get("gaps", []) if repr(float(g["temperature"])) == t), None)
            if gap is not None:
                line += "  gap " + ("outside MLE range" if gap["mle_bleu"] is None
                                    else f"{gap['bleu'] - gap['mle_bleu']:+.4f}")
                if "nll_oracle" in gap:
                    line += f" (NLL_oracle {gap['nll_oracle'] - gap['mle_nll_oracle']:+.3f})"
            if "validity_gaps" in entry:
                value = entry["validity_gaps"][t]
                line += "  validity at equal length " + ("outside MLE range" if value is None else f"{value:+.4f}")
            print(line)
    sys.stdout.flush()


def _print_summary(record: dict, variants) -> None:
    print("summary (T=1.0; gap = BLEU-5 minus the MLE curve's at equal Self-BLEU-5, mean [min, max] over seeds):")
    for variant, _, _ in variants:
        gaps, oracle_gaps, lengths, mle_lengths, distinct = [], [], [], [], []
        for seed_record in record["runs"].values():
            entry = seed_record[variant]
            row = next((g for g in entry["gaps"] if float(g["temperature"]) == 1.0), None)
            gaps.append(None if row is None or row["mle_bleu"] is None else row["bleu"] - row["mle_bleu"])
            if row is not None and "nll_oracle" in row:
                oracle_gaps.append(row["nll_oracle"] - row["mle_nll_oracle"])
            lengths.append(entry["mean_length"]["1.0"])
            mle_lengths.append(seed_record["mle"]["mean_length"]["1.0"])
            distinct.append(entry["distinct"]["1.0"])
        known = [g for g in gaps if g is not None]
        gap_text = (f"{statistics.mean(known):+.4f} [{min(known):+.4f}, {max(known):+.4f}]" if known else "-")
        if oracle_gaps:  # lower NLL_oracle is better: a negative gap is a gain
            gap_text += (f", NLL_oracle gap {statistics.mean(oracle_gaps):+.3f} "
                         f"[{min(oracle_gaps):+.3f}, {max(oracle_gaps):+.3f}]")
        print(f"  {variant:<22} gap {gap_text} ({len(gaps) - len(known)} outside)  length "
              f"{statistics.mean(lengths):.2f} (MLE {statistics.mean(mle_lengths):.2f})  "
              f"distinct {statistics.mean(distinct):.3f}")


if __name__ == "__main__":
    sys.exit(main())

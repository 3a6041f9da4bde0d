#!/usr/bin/env python3
"""Regenerate the project's corpora by sampling their grammars.

With no options, rewrites both built-in corpora in place with their fixed
seeds and sizes (see ``--help``); run it from anywhere, e.g. from the
repository root as ``python data/make_corpus.py``. With ``--grammar`` it
samples one corpus from any PCFG file instead. Each corpus is a directory
holding ``train.txt`` and ``test.txt``: one sentence a line, tokens separated
by single spaces, UTF-8, with a trailing newline. Train and test are
independent samples of the same grammar, drawn with seeds ``seed`` and
``seed + 1``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
REPO_ROOT = DATA_DIR.parent

# Let the script run from a plain checkout, without installing the package.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from seqgan_gumbel.corpus.grammar import load_grammar, sample_corpus  # noqa: E402


@dataclass(frozen=True)
class CorpusSpec:
    """How one corpus is sampled.

    Attributes:
        grammar: Path of the PCFG file.
        train: Number of training sentences.
        test: Number of test sentences.
        seed: Seed of the training sample; the test sample uses seed + 1.
        max_length: Longest sentence kept, in tokens (None: no limit).
    """

    grammar: Path
    train: int
    test: int
    seed: int
    max_length: int | None


#: The committed corpora, keyed by the name of their directory under data/.
#: Changing any of these values changes the files and must be followed by a
#: rerun of this script (tests/test_grammar.py checks that they agree).
BUILTIN_CORPORA: dict[str, CorpusSpec] = {
    "simple_english": CorpusSpec(DATA_DIR / "simple_english.pcfg", 10_000, 2_000, 1000, 20),
    "arithmetic": CorpusSpec(DATA_DIR / "arithmetic.pcfg", 5_000, 1_000, 2000, 15),
}

# Defaults for a grammar that is not one of the built-in ones.
_DEFAULT_TRAIN = 10_000
_DEFAULT_TEST = 2_000
_DEFAULT_SEED = 0


def write_sentences(path: Path, sentences: list[str]) -> None:
    """Write one sentence a line, UTF-8, with a trailing newline.

    Args:
        path: Output file; its directory is created if missing.
        sentences: Sentences, tokens already joined by single spaces.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # newline="\n" so the bytes are the same on every platform.
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("".join(sentence + "\n" for sentence in sentences))


def make_corpus(spec: CorpusSpec, out_dir: Path) -> tuple[list[str], list[str]]:
    """Sample a corpus and write ``train.txt`` and ``test.txt``.

    Args:
        spec: Grammar, sizes, seed and length limit.
        out_dir: Directory for the two files (created if missing).

    Returns:
        The training and test sentences that were written.
    """
    grammar = load_grammar(spec.grammar)
    # Two different seeds make train and test independent samples; seed + 1
    # keeps the pair reproducible from the single seed the user gives.
    train = sample_corpus(grammar, spec.train, spec.seed, max_length=spec.max_length)
    test = sample_corpus(grammar, spec.test, spec.seed + 1, max_length=spec.max_length)
    write_sentences(out_dir / "train.txt", train)
    write_sentences(out_dir / "test.txt", test)
    return train, test


def _describe(name: str, out_dir: Path, train: list[str], test: list[str]) -> str:
    """One summary line: sizes, vocabulary and lengths."""
    lengths = [len(sentence.split()) for sentence in train + test]
    vocab = {token for sentence in train + test for token in sentence.split()}
    mean = sum(lengths) / len(lengths) if lengths else 0.0
    return (
        f"{name}: {len(train)} train + {len(test)} test sentences -> {out_dir}; "
        f"vocabulary {len(vocab)}, length mean {mean:.2f}, max {max(lengths, default=0)}"
    )


def _builtin_summary() -> str:
    lines = ["built-in corpora (written when --grammar is not given):"]
    for name, spec in BUILTIN_CORPORA.items():
        limit = spec.max_length if spec.max_length is not None else "none"
        lines.append(
            f"  {name}: grammar {spec.grammar.relative_to(REPO_ROOT)}, train {spec.train}, "
            f"test {spec.test}, seed {spec.seed}, max-length {limit}"
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """Command-line interface of the script."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=_builtin_summary(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--grammar",
        type=Path,
        help="PCFG file to sample one corpus from (default: all built-in corpora)",
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        help="with --grammar: directory for train.txt and test.txt "
        "(default: next to the grammar, named after it, e.g. data/arithmetic/); "
        "without: parent of the built-in corpus directories (default: data/)",
    )
    parser.add_argument(
        "--train",
        type=int,
        metavar="N",
        help=f"number of training sentences (default: the built-in value, or {_DEFAULT_TRAIN})",
    )
    parser.add_argument(
        "--test",
        type=int,
        metavar="N",
        help=f"number of test sentences (default: the built-in value, or {_DEFAULT_TEST})",
    )
    parser.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="seed of the training sample; the test sample uses N + 1 "
        f"(default: the built-in value, or {_DEFAULT_SEED})",
    )
    parser.add_argument(
        "--max-length",
        type=int,
        metavar="N",
        help="reject and resample sentences longer than N tokens "
        "(default: the built-in value, or no limit)",
    )
    return parser


def _spec_for_grammar(args: argparse.Namespace) -> CorpusSpec:
    """Built-in settings for a built-in grammar, generic ones otherwise,
    overridden by whatever was given on the command line."""
    grammar = args.grammar.resolve()
    base = next(
        (spec for spec in BUILTIN_CORPORA.values() if spec.grammar == grammar),
        CorpusSpec(grammar, _DEFAULT_TRAIN, _DEFAULT_TEST, _DEFAULT_SEED, None),
    )
    return CorpusSpec(
        grammar=grammar,
        train=base.train if args.train is None else args.train,
        test=base.test if args.test is None else args.test,
        seed=base.seed if args.seed is None else args.seed,
        max_length=base.max_length if args.max_length is None else args.max_length,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the script.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        Exit status: 0 on success, 1 if the grammar cannot be read or
        sampled (bad arguments exit with status 2 through argparse).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    for option in ("train", "test"):
        value = getattr(args, option)
        if value is not None and value < 0:
            parser.error(f"--{option} must be >= 0, got {value}")
    if args.max_length is not None and args.max_length < 1:
        parser.error(f"--max-length must be >= 1, got {args.max_length}")

    if args.grammar is None:
        # The per-corpus options would apply to both corpora at once, which
        # is never what is wanted (they have different sizes and limits).
        given = [f"--{name.replace('_', '-')}" for name in ("train", "test", "seed", "max_length")
                 if getattr(args, name) is not None]
        if given:
            parser.error(f"{', '.join(given)}: only with --grammar (these options describe one corpus)")
        root = args.out_dir if args.out_dir is not None else DATA_DIR
        for name, spec in BUILTIN_CORPORA.items():
            train, test = make_corpus(spec, root / name)
            print(_describe(name, root / name, train, test))
        return 0

    spec = _spec_for_grammar(args)
    out_dir = args.out_dir if args.out_dir is not None else spec.grammar.parent / spec.grammar.stem
    try:
        train, test = make_corpus(spec, out_dir)
    except (OSError, ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(_describe(spec.grammar.stem, out_dir, train, test))
    return 0


if __name__ == "__main__":
    sys.exit(main())

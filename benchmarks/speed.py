#!/usr/bin/env python3
"""Training and sampling speed against TextGAN-PyTorch's RelGAN (the peer).

Prints, for a model configuration at batch 64 on synthetic data of the given
vocabulary and length: MLE steps/s and tokens/s, adversarial iterations/s (one
generator step and its discriminator steps), sampling speed for 10,000
sentences, peak memory, the FLOPs per step counted from the compiled graphs,
the fraction of this machine's measured fp32 matmul peak, and the ratio to
the peer's figures measured on the same 2-core machine (../shared/REFERENCE.md,
"Peer speed").

    python benchmarks/speed.py --model lstm          # default LSTM setting: vocabulary 5,000, length 20, 3 D steps
    python benchmarks/speed.py --model gsgan         # the gsgan (LSTM) preset at vocabulary 5,000, length 20
    python benchmarks/speed.py --model relgan-coco   # RelGAN's COCO setting: RMC 1x2x256, vocabulary 4,700, length 37
    python benchmarks/speed.py --model relgan-coco --precision mixed_bfloat16

An untrained generator writes full-length sentences; --generator FILE also
times sampling from a trained one (e.g. a COCO run's generator.keras), whose
sentences end where the data's do: generation computes only the sentences
still being written.

    python benchmarks/speed.py --model relgan-coco --generator runs/coco/generator.keras

With --precision mixed_bfloat16 the fraction of peak is given against both
the fp32 and the bfloat16 matmul peaks measured in the same process.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seqgan_gumbel.quiet_tf import import_tensorflow  # noqa: E402

tf = import_tensorflow()
import keras  # noqa: E402
import numpy as np  # noqa: E402

from seqgan_gumbel.config import PRECISIONS, Config, load_preset  # noqa: E402
from seqgan_gumbel.corpus.pipelines import adversarial_batches, mle_stream  # noqa: E402
from seqgan_gumbel.generation import sample_ids  # noqa: E402
from seqgan_gumbel.models.precision import with_precision  # noqa: E402
from seqgan_gumbel.training.adversarial import GumbelGAN  # noqa: E402
from seqgan_gumbel.training.mle import MLETrainer  # noqa: E402
from seqgan_gumbel.models.factory import build_discriminator, build_generator  # noqa: E402
from seqgan_gumbel.training.run import xla_for_mle  # noqa: E402

# TextGAN-PyTorch's RelGAN on the 2-core CPU machine (REFERENCE.md, "Peer speed"), seconds.
# relgan-coco: the means of two peer runs on 2026-11-29, alternated with this
# script on an otherwise idle machine (582/593 ms, 38.2/40.3 s, 34.1/33.1 s). The
# peer's figures swing with the host (on 2026-11-27: 765 ms, 72.4 s, 53.6 s), so a
# ratio holds only against a peer run of the same sitting; these are the latest.
# lstm/gsgan: the peer's LSTM-32 figures exist only from 2026-11-27 (115 ms, 47.8 s),
# with no same-sitting run: that day's RelGAN figures were 1.3-1.8x slower than the
# 11-29 ones, so the LSTM ratios may be overstated by as much. Sampling: the
# peer's RMC figure (no LSTM one was measured).
PEER = {
    "relgan-coco": {"mle_step": 0.5875, "adversarial_iteration": 39.25, "sample_10000": 33.6},
    "lstm": {"mle_step": 0.115, "adversarial_iteration": 47.8, "sample_10000": 33.6},
    "gsgan": {"mle_step": 0.115, "adversarial_iteration": 47.8, "sample_10000": 33.6},
}


def model_config(name: str, vocab_size: int | None, length: int | None) -> tuple[Config, int, int]:
    if name == "relgan-coco":
        config, vocab, max_length = load_preset("coco"), 4700, 37
    elif name == "gsgan":  # the shipped LSTM preset, at the vocabulary and length
        config, vocab, max_length = load_preset("gsgan"), 5000, 20
    else:
        config, vocab, max_length = Config(), 5000, 20
    vocab, max_length = vocab_size or vocab, length or max_length
    config.data.max_length = max_length
    config.training.batch_size = 64
    return config, vocab, max_length


def synthetic_ids(num: int, vocab: int, max_length: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ids = np.zeros((num, max_length + 1), np.int32)
    lengths = rng.integers(max_length // 2, max_length + 1, num)
    for row, n in zip(ids, lengths):
        row[:n] = rng.integers(4, vocab, n)
        row[n] = 2  # EOS
    return ids


def timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def graph_flops(concrete_function) -> float | None:
    """Floating-point operations of one call, counted by TF's profiler on the graph."""
    try:
        from tensorflow.python.profiler import model_analyzer, option_builder

        options = option_builder.ProfileOptionBuilder.float_operation()
        options["output"] = "none"
        profile = model_analyzer.profile(concrete_function.graph, options=options)
        return float(profile.total_float_ops) or None
    except Exception:  # the profiler's graph walk is best-effort
        return None


def matmul_peak(size: int = 2048, repeats: int = 10, dtype=tf.float32) -> float:
    a = tf.cast(tf.random.normal((size, size)), dtype)
    b = tf.cast(tf.random.normal((size, size)), dtype)
    matmul = tf.function(lambda: tf.matmul(a, b))
    matmul().numpy()
    best = min(timed(lambda: matmul().numpy(), repeats))
    return 2 * size**3 / best


def time_sampling(generator, name: str, num: int, peer: dict) -> None:
    sample_ids(generator, 1000, seed=0)  # trace
    start = time.perf_counter()
    ids = sample_ids(generator, num, seed=1)
    seconds = time.perf_counter() - start
    tokens = int(np.sum(ids != 0))
    print(f"sampling {num:,} sentences ({name}, mean {tokens / num:.1f} tokens with EOS): {seconds:.2f} s "
          f"({num / seconds:,.0f} sentences/s); peer {peer['sample_10000']:.1f} s for 10,000 -> "
          f"{peer['sample_10000'] * num / 10000 / seconds:.1f}x")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(PEER), default="lstm")
    parser.add_argument("--vocab", type=int, default=None, help="vocabulary size (default: the setting's)")
    parser.add_argument("--length", type=int, default=None, help="maximum sentence length (default: the setting's)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10, help="timed steps of each kind")
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--precision", choices=PRECISIONS, default="float32")
    parser.add_argument("--generator", type=Path, default=None,
                        help="also time sampling from this trained generator (.keras), at --precision")
    args = parser.parse_args(argv)

    config, vocab, max_length = model_config(args.model, args.vocab, args.length)
    config.training.batch_size = batch = args.batch_size
    t = config.training
    t.precision = args.precision
    keras.utils.set_random_seed(0)
    generator = build_generator(config, vocab)
    discriminator = build_discriminator(config, vocab)
    ids = synthetic_ids(max(batch * t.discriminator_steps * 4, 2048), vocab, max_length)
    peak = matmul_peak()
    print(f"machine: {os.cpu_count()} CPUs, TensorFlow {tf.__version__}; fp32 matmul peak {peak / 1e9:.0f} GFLOP/s")
    peaks = {"fp32": peak}
    if args.precision == "mixed_bfloat16":
        peaks["bf16"] = matmul_peak(dtype=tf.bfloat16)
        print(f"bf16 matmul peak {peaks['bf16'] / 1e9:.0f} GFLOP/s; precision {args.precision}")

    def of_peak(flops: float, seconds: float) -> str:
        return " / ".join(f"{flops / seconds / p:.0%} of {name}" for name, p in peaks.items()) + " matmul peak"
    print(f"setting: {args.model}: generator {config.generator.type}, discriminator {config.discriminator.type}, "
          f"vocabulary {vocab}, length {max_length}, batch {batch}, {t.discriminator_steps} discriminator steps")
    print(f"parameters: generator {generator.count_params():,}, discriminator {discriminator.count_params():,}")
    peer = PEER[args.model]

    mle = MLETrainer(generator)
    mle.compile(optimizer=keras.optimizers.Adam(1e-3))
    mle_data = iter(mle_stream(ids, batch, seed=0))
    xla = xla_for_mle(config)  # as training compiles it
    mle_step = tf.function(mle.train_step, jit_compile=xla)
    mle_step(next(mle_data))
    mle_times = timed(lambda: float(mle_step(next(mle_data))["nll"]), args.steps)
    mle_seconds = statistics.median(mle_times)
    mle_flops = graph_flops(mle_step.get_concrete_function(next(mle_data)))
    tokens = batch * (max_length + 1)
    print(f"MLE step{' (XLA)' if xla else ''}: {mle_seconds * 1000:.1f} ms ({1 / mle_seconds:.2f} steps/s, "
          f"{tokens / mle_seconds:,.0f} tokens/s); "
          f"peer {peer['mle_step'] * 1000:.0f} ms -> {peer['mle_step'] / mle_seconds:.1f}x"
          + (f"; {mle_flops / 1e9:.1f} GFLOP/step = {of_peak(mle_flops, mle_seconds)}" if mle_flops else ""))

    gan = GumbelGAN(generator, discriminator, seed=0)
    gan.compile(keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4), loss=t.loss,
                discriminator_steps=t.discriminator_steps,
                gradient_penalty=t.gradient_penalty if t.loss == "wgan-gp" else 0,
                pad_after_eos=t.pad_after_eos, generator_first=t.generator_first,
                per_representation=config.discriminator.type == "multi_representation"
                and config.discriminator.loss_per_representation)
    adv_data = iter(adversarial_batches(ids, batch, gan.real_batches_per_step, seed=0))
    adv_step = tf.function(gan.train_step)
    adv_step(next(adv_data))
    adv_times = timed(lambda: float(adv_step(next(adv_data))["g_loss"]), args.steps)
    adv_seconds = statistics.median(adv_times)
    adv_flops = graph_flops(adv_step.get_concrete_function(next(adv_data)))
    print(f"adversarial iteration (1 G + {t.discriminator_steps} D steps): {adv_seconds * 1000:.0f} ms "
          f"({1 / adv_seconds:.2f} it/s); peer {peer['adversarial_iteration']:.1f} s -> "
          f"{peer['adversarial_iteration'] / adv_seconds:.1f}x"
          + (f"; {adv_flops / 1e9:.1f} GFLOP/iteration = {of_peak(adv_flops, adv_seconds)}" if adv_flops else ""))

    time_sampling(generator, "untrained generator", args.samples, peer)
    if args.generator:
        trained = keras.saving.load_model(args.generator, safe_mode=True)
        time_sampling(with_precision(trained, args.precision), str(args.generator), args.samples, peer)
    print(f"peak memory (max resident set): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A whole training run: data, MLE pretraining, adversarial training, report."""

from __future__ import annotations

import dataclasses
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from seqgan_gumbel import __version__
from seqgan_gumbel.config import Config
from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.evaluation.frontier import (
    FRONTIER_ORDER,
    FRONTIER_TEMPERATURES,
    frontier_verdict,
    point_statistics,
)
from seqgan_gumbel.corpus.loading import vocabulary_summary
from seqgan_gumbel.corpus.pipelines import adversarial_batches, mle_batches, mle_stream
from seqgan_gumbel.generation import decode_all, sample_ids
from seqgan_gumbel.evaluation.likelihood import LikelihoodEvaluator, nll_test_signature
from seqgan_gumbel.evaluation.scorer import SampleScorer, format_scores
from seqgan_gumbel.metrics.bleu import BleuScorer
from seqgan_gumbel.models.factory import build_discriminator, build_generator
from seqgan_gumbel.training.schedules import inverse_temperature
from seqgan_gumbel.rundir import (
    CORPUS_STATS_FILE,
    DISCRIMINATOR_FILE,
    FINAL_SAMPLES_FILE,
    GENERATOR_FILE,
    METRICS_FILE,
    MLE_GENERATOR_FILE,
    MLE_METRICS_FILE,
    METRICS_LOG_FILE,
    PRETRAINED_SAMPLES_FILE,
    TENSORBOARD_DIR,
    RunDirectory,
    TrainingState,
)
from seqgan_gumbel.corpus.tokenizer import Tokenizer
from seqgan_gumbel.training.adversarial import GumbelGAN
from seqgan_gumbel.training.callbacks import (
    BestWeights,
    DecayOnPlateau,
    GracefulInterrupt,
    KeepBestWeights,
    PeriodicCheckpoint,
    SampleWriter,
    StopOnNonFiniteLoss,
    StopWithoutImprovement,
    TemperatureSchedule,
)
from seqgan_gumbel.training.checkpoints import CheckpointManager
from seqgan_gumbel.training.progress import (
    JsonLinesLogger,
    MetricsFile,
    ProgressBar,
    TensorBoardLogger,
)
from seqgan_gumbel.training.distribution import make_strategy, single_worker_note
from seqgan_gumbel.training.mle import MLETrainer
from seqgan_gumbel.training.monitor import (
    MONITOR_SCALARS,
    CollapseMonitor,
    SampleMonitor,
    describe,
    frontier_score,
)
from seqgan_gumbel.training.prepare import PreparedRun, prepare_run
from seqgan_gumbel.runlog import EVAL_RECORD, GAN_PHASE, MLE_PHASE, MONITOR_RECORD, append_record

BLEU_ORDERS = (2, 3, 4, 5)


@dataclass
class RunResult:
    """What a finished run reports (also saved as metrics.json)."""

    run_dir: Path
    metrics: dict
    samples: list[str] = field(default_factory=list)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def xla_for_mle(config: Config, num_replicas: int = 1) -> bool:
    """Whether the MLE step is compiled with XLA (`training.xla_pretraining`).

    Not across replicas, and not for mixed_bfloat16 on a CPU-only machine:
    XLA's CPU backend runs bfloat16 matmuls slowly (measured: RelGAN's COCO
    MLE step 569 ms with XLA, 372 ms without, float32 with XLA 372 ms).
    """
    if not config.training.xla_pretraining or num_replicas > 1:
        return False
    return config.training.precision == "float32" or bool(tf.config.list_physical_devices("GPU"))


def _optimizer(learning_rate: float) -> keras.optimizers.Optimizer:
    # Clipping happens in the train steps, on the global gradient (see
    # distribution.py). Epsilon 1e-8 as TensorFlow 1's Adam, which RelGAN used
    # (Keras's default is 1e-7).
    return keras.optimizers.Adam(learning_rate, epsilon=1e-8)


def train(
    config: Config,
    run_dir: str | Path,
    overwrite: bool = False,
    log: Callable[[str], None] = _log,
    progress: str = "bar",
) -> RunResult:
    """Trains a Gumbel-softmax GAN on a corpus, end to end.

    Reads and checks every input before the run directory is touched, then:
    MLE pretraining (the result kept as generator_mle.keras), adversarial
    training with the annealed temperature (checkpoints and samples written
    on the way), the final generator and discriminator in Keras format, and a
    report: samples, BLEU-2..5 against the test corpus (or the training
    corpus when there is none) and the per-token NLL of the test corpus.

    Args:
        config: the run's settings (`config.data.corpus` is required).
        run_dir: the new run directory.
        overwrite: replace an existing run directory.
        log: receives progress messages.
        progress: "bar" (a live progress bar on stderr), "jsonl" (one JSON
            object per step on stderr) or "none".

    Returns:
        The run's directory, final metrics and samples.

    Raises:
        UserInputError: bad corpus, settings or run directory.
    """
    return train_prepared(prepare_run(config, run_dir, overwrite), log=log, progress=progress)


PROGRESS_MODES = ("bar", "jsonl", "none")


def _watchers(progress: str, run: RunDirectory, phase: str, total: int, step_fn, started: float,
              tensorboard: TensorBoardLogger) -> list:
    """The callbacks that report a phase's steps: progress, metrics.jsonl, TensorBoard."""
    watchers = [MetricsFile(run.file(METRICS_LOG_FILE), phase, step_fn, start_time=started), tensorboard]
    if progress == "bar":
        watchers.append(ProgressBar(phase.upper(), total, step_fn=step_fn, initial_step=step_fn()))
    elif progress == "jsonl":
        watchers.append(JsonLinesLogger(phase, step_fn, start_time=started))
    return watchers


def _record_evaluation(run: RunDirectory, tensorboard: TensorBoardLogger, step: int, generator_name: str,
                       metrics: dict, started: float) -> None:
    scores = {k: v for k, v in metrics.items()
              if k in ("bleu", "self_bleu", "nll_test", "nll_train", "grammar_validity")}
    append_record(run.file(METRICS_LOG_FILE), {"phase": EVAL_RECORD, "step": step, "generator": generator_name,
                                               "time": time.perf_counter() - started, **scores})
    tensorboard.log_scalars(f"eval_{generator_name}", scores, step)


def train_prepared(prepared: PreparedRun, log: Callable[[str], None] = _log, progress: str = "bar") -> RunResult:
    """Runs `train` on inputs already checked by `prepare_run` (or `prepare_resume`).

    The run's phases, in order: build the networks (restoring the newest
    checkpoint of a resumed run), MLE pretraining and its report, adversarial
    training, the final evaluation. A resumed run continues from where its
    checkpoint left off; on CPU with the same seed it ends with the same
    weights as a run that was never interrupted.

    Raises:
        TrainingInterrupted: Ctrl-C; a checkpoint was saved first.
        TrainingDiverged: a loss became NaN or infinite; the last good checkpoint is kept.
    """
    _start_run_directory(prepared, log)
    nets = _build_networks(prepared, log)
    state = _restore_checkpoint(nets, prepared.resume, log)
    session = _Session.open(prepared, nets, log, progress)
    if state.phase == MLE_PHASE:
        mle_metrics, state = _pretrain_phase(session, nets, state)
    else:
        mle_metrics = prepared.run.read_json(MLE_METRICS_FILE)
    log("after MLE pretraining: " + format_scores(mle_metrics))
    pretrain_seconds = time.perf_counter() - session.started
    kept_step = _adversarial_phase(session, nets, state, mle_metrics)
    return _final_evaluation(session, nets, mle_metrics, kept_step, pretrain_seconds)


@dataclass
class _Networks:
    """The models, their trainers and optimizers, and everything a checkpoint holds."""

    generator: keras.Model
    discriminator: keras.Model
    mle: MLETrainer
    gan: GumbelGAN
    mle_optimizer: keras.optimizers.Optimizer
    best_mle: BestWeights | None
    best_gan: BestWeights | None
    manager: CheckpointManager


@dataclass
class _Session:
    """What every phase of one run reads: its inputs, its log, and the evaluators built once per run."""

    prepared: PreparedRun
    log: Callable[[str], None]
    progress: str
    started: float
    resume_hint: str
    tensorboard: TensorBoardLogger
    monitor: SampleMonitor
    likelihood: LikelihoodEvaluator  # NLL_test and NLL_train of the MLE and the final generator, one graph
    # The report's scores of the MLE and the final generator's samples; its BleuScorer (the report's
    # references, built once) serves every BLEU of the run and the verdict.
    scorer: SampleScorer

    @classmethod
    def open(cls, prepared: PreparedRun, nets: _Networks, log: Callable[[str], None], progress: str) -> "_Session":
        run, tokenizer, t = prepared.run, prepared.tokenizer, prepared.config.training
        started = time.perf_counter()
        tensorboard = TensorBoardLogger(run.file(TENSORBOARD_DIR), MLE_PHASE,
                                        lambda: int(nets.mle_optimizer.iterations.numpy()))
        references, reference_name = _monitor_references(prepared, log) if t.keep_best_gan else (None, None)
        # The report's references as a BleuScorer, built once for every BLEU of the run and the verdict.
        references_scorer = BleuScorer([tokenizer.tokenize(s) for s in prepared.test_sentences or prepared.sentences],
                                       max_n=max(FRONTIER_ORDER, *BLEU_ORDERS))
        monitor = SampleMonitor(tokenizer, t.monitor_samples, t.seed, references, reference_name)
        scorer = SampleScorer(references_scorer, tokenizer.level, BLEU_ORDERS, grammar_checker=prepared.grammar_checker,
                              grammar_name=Path(prepared.config.data.grammar).name)
        return cls(prepared, log, progress, started, f"seqgan-gumbel train --resume --out {run.path}", tensorboard,
                   monitor, LikelihoodEvaluator(nets.generator), scorer)

    def sample_sentences(self, generator: keras.Model, num: int = 20) -> list[str]:
        return decode_all(self.prepared.tokenizer, sample_ids(generator, num, seed=self.prepared.config.training.seed))

    def record_monitor(self, step: int, values: dict) -> None:
        _record_monitor(self.prepared.run, self.tensorboard, step, values, self.started)

    def evaluate(self, hypotheses: list[list[str]], model: str) -> dict:
        """The report's scores of a generator's samples, with its NLL_test and NLL_train.

        Args:
            hypotheses: the generator's samples as tokens (`Tokenizer.ids_to_tokens` of `sample_ids`).
            model: the file the scored generator is saved as (for the signatures).

        Returns:
            `SampleScores.to_dict()`.
        """
        prepared = self.prepared
        tokenizer, batch_size = prepared.tokenizer, prepared.config.training.batch_size
        scores = self.scorer.score(hypotheses)
        if prepared.test_ids is not None:
            scores = scores.with_figure("nll_test", self.likelihood(prepared.test_ids, batch_size),
                                        nll_test_signature(prepared.test_stats, tokenizer.level, model))
        # The sentences MLE trained on: the corpus less any held-out validation split.
        train_stats = dataclasses.replace(prepared.train_stats, kept=len(prepared.train_ids))
        scores = scores.with_figure("nll_train", self.likelihood(prepared.train_ids, batch_size),
                                    nll_test_signature(train_stats, tokenizer.level, model, metric="nll_train"))
        return scores.to_dict()


def _start_run_directory(prepared: PreparedRun, log: Callable[[str], None]) -> None:
    """Writes a new run's settings, vocabulary and corpus record, and says what the run reads."""
    config, run, tokenizer = prepared.config, prepared.run, prepared.tokenizer
    data = config.data
    if not prepared.resume:
        run.create(overwrite=prepared.overwrite)
        run.save_config(config)
        run.save_tokenizer(tokenizer)
        run.write_json(CORPUS_STATS_FILE, prepared.corpus_record())
    log(prepared.train_stats.summary(f"corpus {data.corpus}"))
    if prepared.test_stats:
        log(prepared.test_stats.summary(f"test corpus {data.test}"))
    if prepared.held_out:
        log(f"validation corpus: {prepared.held_out} of the corpus's sentences held out (data.validation_split "
            f"{data.validation_split:g}) for the MLE phase's validation NLL; --validation FILE gives your own")
    elif prepared.validation_stats:
        log(prepared.validation_stats.summary(f"validation corpus {data.validation}"))
    for line in vocabulary_summary(tokenizer.vocab_size, data.level, prepared.train_ids, prepared.test_stats,
                                   built_from_corpus=not data.vocabulary):
        log(line)
    log(f"run directory: {run.path}")


def _build_networks(prepared: PreparedRun, log: Callable[[str], None]) -> _Networks:
    """Seeds everything, then builds the networks, trainers and optimizers under the run's strategy."""
    config, t = prepared.config, prepared.config.training
    vocab_size = prepared.tokenizer.vocab_size
    if t.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(t.seed)
    strategy = make_strategy(t.strategy)
    note = single_worker_note(t.strategy, strategy)
    if note:
        log(note)
    if strategy.num_replicas_in_sync > 1:
        if t.batch_size % strategy.num_replicas_in_sync:
            raise UserInputError(f"--batch-size {t.batch_size} must be divisible by the "
                                 f"{strategy.num_replicas_in_sync} replicas of --strategy {t.strategy}")
        log(f"training on {strategy.num_replicas_in_sync} replicas ({t.strategy}); global batch {t.batch_size}")
    with strategy.scope():
        generator = build_generator(config, vocab_size)
        discriminator = build_discriminator(config, vocab_size)
        mle_optimizer = _optimizer(t.pretrain_learning_rate)
        generator_optimizer = _optimizer(t.generator_learning_rate)
        discriminator_optimizer = _optimizer(t.discriminator_learning_rate)
        mle = MLETrainer(generator)
        mle.compile(optimizer=mle_optimizer, grad_clip=t.grad_clip, padding_targets=not t.pad_after_eos,
                    jit_compile=xla_for_mle(config, strategy.num_replicas_in_sync))
        gan = GumbelGAN(generator, discriminator, seed=t.seed)
        gan.compile(
            generator_optimizer=generator_optimizer,
            discriminator_optimizer=discriminator_optimizer,
            loss=t.loss,
            discriminator_steps=t.discriminator_steps,
            straight_through=t.straight_through,
            gradient_penalty=t.gradient_penalty,
            grad_clip=t.grad_clip,
            pad_after_eos=t.pad_after_eos,
            per_representation=config.discriminator.type == "multi_representation"
            and config.discriminator.loss_per_representation,
            generator_first=t.generator_first,
            mle_weight=t.mle_weight,
            adversarial_weight=t.adversarial_weight,
        )
        # The trainers' compile built the three optimizers, so that a checkpoint can restore their slots.
        best_mle = BestWeights(generator) if t.pretrain_keep_best else None
        best_gan = BestWeights(generator) if t.keep_best_gan else None
    manager = CheckpointManager(
        prepared.run.checkpoints, t.keep_checkpoints, generator=generator, discriminator=discriminator,
        mle_optimizer=mle_optimizer, generator_optimizer=generator_optimizer,
        discriminator_optimizer=discriminator_optimizer, **({"best_mle": best_mle} if best_mle else {}),
        **({"best_gan": best_gan} if best_gan else {}),
    )
    return _Networks(generator, discriminator, mle, gan, mle_optimizer, best_mle, best_gan, manager)


def _restore_checkpoint(nets: _Networks, resume: bool, log: Callable[[str], None]) -> TrainingState:
    """A resumed run's newest checkpoint loaded into the networks, and how far it got (a new run: nowhere)."""
    if resume:
        latest = nets.manager.latest()
        if latest is None:
            log("no checkpoint yet: starting the run from the beginning")
        else:
            folder, state = latest
            nets.manager.restore(folder)
            log(f"resuming from {folder.name}: {state.mle_steps} MLE steps and "
                f"{state.adversarial_steps} adversarial steps done")
            return state
    return TrainingState(MLE_PHASE, 0, 0)


def _pretrain_phase(session: _Session, nets: _Networks, state: TrainingState) -> tuple[dict, TrainingState]:
    """MLE pretraining (or the --pretrained generator), then the MLE generator's report and curve.

    Returns:
        The MLE report (also in metrics_mle.json) and the state that starts the adversarial phase.
    """
    prepared, log = session.prepared, session.log
    run, tokenizer, t = prepared.run, prepared.tokenizer, prepared.config.training
    generator, mle_optimizer, best_mle = nets.generator, nets.mle_optimizer, nets.best_mle
    steps_per_epoch = len(prepared.train_ids) // t.batch_size
    remaining = t.pretrain_epochs * steps_per_epoch - state.mle_steps
    if t.pretrained_generator and state.mle_steps == 0:
        _load_pretrained(generator, tokenizer, t.pretrained_generator)
        log(f"MLE pretraining skipped: starting from {t.pretrained_generator}")
        remaining = 0
    if remaining > 0:
        log(f"MLE pretraining: {t.pretrain_epochs} epochs of {steps_per_epoch} batches"
            + (f", {state.mle_steps} batches already done" if state.mle_steps else ""))
    mle_step = lambda: int(mle_optimizer.iterations.numpy())  # noqa: E731
    # Saved after each epoch's validation, so that it holds the best-epoch choice.
    checkpoint = PeriodicCheckpoint(nets.manager, lambda: TrainingState(MLE_PHASE, mle_step(), 0), mle_step,
                                    at_epoch_end=True)
    patience = StopWithoutImprovement(best_mle, t.pretrain_patience) if best_mle and t.pretrain_patience else None
    callbacks = [
        StopOnNonFiniteLoss("MLE", mle_step),
        *_watchers(session.progress, run, MLE_PHASE, t.pretrain_epochs * steps_per_epoch, mle_step, session.started,
                   session.tensorboard),
        *([KeepBestWeights(best_mle, "val_nll")] if best_mle else []),
        *([DecayOnPlateau(best_mle, mle_optimizer, t.pretrain_lr_decay, log)] if best_mle and t.pretrain_lr_decay
          else []),
        *([patience] if patience else []),
        checkpoint,
        GracefulInterrupt(checkpoint, session.resume_hint),
    ]
    if remaining > 0 and not (patience and patience.stopped(state.mle_steps // steps_per_epoch)):
        _pretrain(nets.mle, prepared.train_ids, prepared.mle_validation_ids, t, state.mle_steps, steps_per_epoch,
                  callbacks)
    kept = {}
    epochs_done = int(mle_optimizer.iterations.numpy()) // max(steps_per_epoch, 1)
    if patience and epochs_done < t.pretrain_epochs and patience.stopped(epochs_done):
        kept["stopped_epoch"] = epochs_done
        log(f"MLE pretraining: stopped after epoch {epochs_done} of {t.pretrain_epochs}, {t.pretrain_patience} "
            f"epoch{'s' * (t.pretrain_patience > 1)} without a lower validation NLL")
    if best_mle and t.pretrain_lr_decay and not t.pretrained_generator:
        kept["final_learning_rate"] = float(mle_optimizer.learning_rate.numpy())
    if best_mle and best_mle.found:
        best_mle.restore()
        kept |= {"best_epoch": int(best_mle.epoch.numpy()), "best_validation_nll": float(best_mle.best.numpy())}
        log(f"MLE pretraining: keeping epoch {kept['best_epoch']} of {t.pretrain_epochs}, "
            f"the lowest validation NLL ({kept['best_validation_nll']:.3f})")
    run.save_model(generator, MLE_GENERATOR_FILE)
    run.write_lines(PRETRAINED_SAMPLES_FILE, session.sample_sentences(generator))
    # Scored now so that every report can say whether adversarial training helped.
    mle_ids = sample_ids(generator, t.num_eval_samples, seed=t.seed)
    mle_metrics = session.evaluate([tokenizer.ids_to_tokens(row) for row in mle_ids], MLE_GENERATOR_FILE)
    mle_metrics.update(kept)
    if t.num_eval_samples >= 2:
        # The MLE generator's temperature curve: the final verdict places the GAN against it.
        mle_metrics["frontier_curve"] = frontier_curve(generator, tokenizer, session.scorer.bleu_scorer,
                                                       mle_ids, t.num_eval_samples, t.seed)
    # The collapse monitor's reference (and --keep-best-gan's MLE curve), kept for a resumed run.
    mle_metrics["monitor"] = session.monitor.measure_start(generator, curve=t.keep_best_gan)
    run.write_json(MLE_METRICS_FILE, mle_metrics)
    _record_evaluation(run, session.tensorboard, 0, MLE_PHASE, mle_metrics, session.started)
    session.record_monitor(0, _start_record(mle_metrics["monitor"]))
    # The MLE steps that ran (fewer than planned when pretraining stopped early).
    state = TrainingState(GAN_PHASE, int(mle_optimizer.iterations.numpy()), 0)
    nets.manager.save(state)
    return mle_metrics, state


def _adversarial_phase(session: _Session, nets: _Networks, state: TrainingState, mle_metrics: dict) -> dict | None:
    """Adversarial training from `state` to the last step, then the final networks saved.

    Returns:
        What --keep-best-gan kept (None without it, or when it kept the last step).
    """
    prepared, log = session.prepared, session.log
    run, tokenizer, t = prepared.run, prepared.tokenizer, prepared.config.training
    generator, gan, best_gan = nets.generator, nets.gan, nets.best_gan
    gan.step_counter.assign(state.adversarial_steps)
    remaining = t.adversarial_steps - state.adversarial_steps
    final_beta = inverse_temperature(t.adversarial_steps - 1, t.adversarial_steps, t.beta_max, t.schedule,
                                     t.schedule_steps)
    log(
        f"adversarial training: {t.adversarial_steps} steps, {t.loss} loss, "
        f"{t.discriminator_steps} discriminator steps each, beta 1 -> {final_beta:.4g} ({t.schedule}"
        + (f", beta_max {t.beta_max} at step {t.schedule_steps})" if t.schedule_steps else ")")
        + (f", {state.adversarial_steps} already done" if state.adversarial_steps else "")
    )
    monitor_start = _monitor_start(mle_metrics, session.monitor, run, tokenizer, t.keep_best_gan)
    log(f"collapse monitor, MLE start ({monitor_start['samples']} samples): {describe(monitor_start, monitor_start)}")
    if best_gan is not None and state.adversarial_steps == 0:
        best_gan.offer(0, -frontier_score(monitor_start, monitor_start)[0])  # the MLE start, gap 0
    if remaining > 0:
        adversarial_step = lambda: int(gan.step_counter.numpy())  # noqa: E731

        def sample_and_log() -> list[str]:
            sentences = session.sample_sentences(generator)
            session.tensorboard.log_text("gan/samples", sentences, adversarial_step())
            return sentences

        checkpoint = PeriodicCheckpoint(
            nets.manager, lambda: TrainingState(GAN_PHASE, state.mle_steps, adversarial_step()),
            adversarial_step, t.checkpoint_every,
        )
        gan_tensorboard = TensorBoardLogger(run.file(TENSORBOARD_DIR), GAN_PHASE, adversarial_step)
        echo = log if session.progress != "none" else None
        callbacks = [
            StopOnNonFiniteLoss("adversarial", adversarial_step),
            TemperatureSchedule(t.adversarial_steps, t.beta_max, t.schedule, t.schedule_steps),
            *_watchers(session.progress, run, GAN_PHASE, t.adversarial_steps, adversarial_step, session.started,
                       gan_tensorboard),
            SampleWriter(sample_and_log, run.samples, t.sample_every, echo=echo),
            CollapseMonitor(session.monitor, generator, monitor_start, t.sample_every, session.record_monitor,
                            echo=echo, warn=log, best=best_gan),
            checkpoint,
            GracefulInterrupt(checkpoint, session.resume_hint),
        ]
        gan.fit(
            adversarial_batches(prepared.train_ids, t.batch_size, gan.real_batches_per_step, t.seed,
                                skip=state.adversarial_steps),
            steps_per_epoch=remaining,
            epochs=1,
            shuffle=False,
            callbacks=callbacks,
            verbose=0,
        )
        gan_tensorboard.close()
    kept_step = _restore_best_gan(best_gan, monitor_start, t.adversarial_steps, log)
    run.save_model(generator, GENERATOR_FILE)
    run.save_model(nets.discriminator, DISCRIMINATOR_FILE)
    return kept_step


def _final_evaluation(session: _Session, nets: _Networks, mle_metrics: dict, kept_step: dict | None,
                      pretrain_seconds: float) -> RunResult:
    """The final generator's report, its verdict against the MLE curve, and the final samples."""
    prepared = session.prepared
    run, tokenizer, t = prepared.run, prepared.tokenizer, prepared.config.training
    train_seconds = time.perf_counter() - session.started
    # Sampled once: scored here and written as samples/final.txt below.
    final_ids = sample_ids(nets.generator, t.num_eval_samples, seed=t.seed)
    final_tokens = [tokenizer.ids_to_tokens(row) for row in final_ids]
    metrics = session.evaluate(final_tokens, GENERATOR_FILE)
    metrics.update(
        mle=mle_metrics,
        references="test" if prepared.test_sentences else "train",
        pretrain_seconds=round(pretrain_seconds, 1),
        train_seconds=round(train_seconds, 1),
        version=__version__,
        **({"keep_best_gan": kept_step} if kept_step else {}),
    )
    if "frontier_curve" in mle_metrics:
        metrics["frontier"] = frontier_verdict(mle_metrics["frontier_curve"],
                                               point_statistics(final_tokens, session.scorer.bleu_scorer),
                                               mle_metrics["mean_length"])
    samples = decode_all(tokenizer, final_ids)
    run.write_lines(FINAL_SAMPLES_FILE, samples)
    run.write_json(METRICS_FILE, metrics)
    _record_evaluation(run, session.tensorboard, t.adversarial_steps, GAN_PHASE, metrics, session.started)
    session.tensorboard.close()
    return RunResult(run.path, metrics, samples)


def frontier_curve(generator, tokenizer: Tokenizer, scorer: BleuScorer, ids_at_1: np.ndarray | None, num: int,
                   seed: int) -> list[dict]:
    """The generator's frontier points at `FRONTIER_TEMPERATURES`, sampled as the final report samples.

    Args:
        generator: the MLE-pretrained generator.
        tokenizer: the run's tokenizer.
        scorer: the report's references.
        ids_at_1: the report's own samples at temperature 1 (that point is
            theirs), or None to sample them here the same way.
        num: samples a point (`training.num_eval_samples`).
        seed: the sampling seed (the run's).

    Returns:
        One `point_statistics` dict with its "temperature" per temperature.
    """
    curve = []
    for temperature in FRONTIER_TEMPERATURES:
        reuse = temperature == 1.0 and ids_at_1 is not None
        ids = ids_at_1 if reuse else sample_ids(generator, num, temperature, seed=seed)
        curve.append({"temperature": temperature,
                      **point_statistics([tokenizer.ids_to_tokens(row) for row in ids], scorer)})
    return curve


def _record_monitor(run: RunDirectory, tensorboard: TensorBoardLogger, step: int, values: dict,
                    started: float) -> None:
    """A "monitor" record (see training/monitor.py) in metrics.jsonl, and its numbers in TensorBoard."""
    append_record(run.file(METRICS_LOG_FILE), {"phase": MONITOR_RECORD, "step": step,
                                               "time": time.perf_counter() - started, **values})
    tensorboard.log_scalars(MONITOR_RECORD, {k: v for k, v in values.items() if k in MONITOR_SCALARS}, step)


def _start_record(start: dict) -> dict:
    """The step-0 "monitor" record of the MLE start (its frontier gap is 0 by construction)."""
    record = {"generator": MLE_PHASE, **{k: v for k, v in start.items() if k not in ("curve", "num_references")}}
    if "curve" in start:
        record["frontier_gap"] = frontier_score(start, start)[0]
    return record


def _monitor_references(prepared: PreparedRun, log: Callable[[str], None]) -> tuple[list, str]:
    """--keep-best-gan's BLEU references: the validation sentences, else the test ones, else the training ones."""
    for name, ids in (("validation", prepared.validation_ids), ("test", prepared.test_ids)):
        if ids is not None:
            break
    else:
        name, ids = "train", prepared.train_ids
        log("--keep-best-gan: no validation or test corpus: the frontier gap is measured against the "
            "training sentences (a step may win by copying them; give --validation FILE)")
    return [prepared.tokenizer.ids_to_tokens(row) for row in ids], name


def _monitor_start(mle_metrics: dict, monitor: SampleMonitor, run: RunDirectory, tokenizer: Tokenizer,
                   curve: bool) -> dict:
    """The MLE start's monitor values, as metrics_mle.json stored them (measured there for older runs)."""
    start = mle_metrics.get("monitor")
    if start is None or (curve and "curve" not in start):
        # A run directory from before the monitor existed: its generator_mle.keras is the start.
        start = monitor.measure_start(run.load_generator(MLE_GENERATOR_FILE, tokenizer), curve=curve)
        mle_metrics["monitor"] = start
        run.write_json(MLE_METRICS_FILE, mle_metrics)
    return start


def _restore_best_gan(best_gan: BestWeights | None, start: dict, steps: int, log: Callable[[str], None]) -> dict:
    """--keep-best-gan: puts the best monitored step's weights back; what metrics.json says of it."""
    if best_gan is None or not best_gan.found:
        return {}
    best_gan.restore()
    kept = {"step": int(best_gan.epoch.numpy()), "frontier_gap": 0.0 - float(best_gan.best.numpy()),
            "references": start.get("references"), "samples": start.get("samples")}
    log(f"--keep-best-gan: keeping adversarial step {kept['step']} of {steps} (0: the MLE start), frontier gap "
        f"{kept['frontier_gap']:+.4f} BLEU-5 against the {kept['references']} sentences")
    return kept


def _load_pretrained(generator, tokenizer: Tokenizer, path: str) -> None:
    """Copies an earlier run's MLE-pretrained weights into `generator`.

    Raises:
        UserInputError: the file cannot be loaded, its run's vocabulary differs,
            or its architecture does not match this run's generator.
    """
    source = RunDirectory(Path(path).parent)
    if source.load_tokenizer().vocabulary.tokens != tokenizer.vocabulary.tokens:
        raise UserInputError(f"{path}: its run's vocabulary differs from this run's (same corpus and settings needed)")
    pretrained = source.load_model(Path(path).name)
    shapes = [w.shape for w in pretrained.get_weights()]
    if type(pretrained) is not type(generator) or shapes != [w.shape for w in generator.get_weights()]:
        raise UserInputError(f"{path}: the pretrained generator's architecture differs from this run's generator")
    generator.set_weights(pretrained.get_weights())


def _pretrain(mle, train_ids, validation_ids, t, start_step: int, steps_per_epoch: int, callbacks) -> None:
    """MLE epochs from `start_step` (a resumed run may stop mid-epoch) to the end."""
    validation = (mle_batches(validation_ids, t.batch_size, t.seed, shuffle=False)
                  if validation_ids is not None else None)
    epoch, offset = divmod(start_step, steps_per_epoch)
    if epoch >= t.pretrain_epochs:
        return
    if offset:
        # Finish the interrupted epoch first, then continue with whole ones.
        mle.fit(mle_stream(train_ids, t.batch_size, t.seed, skip=start_step), steps_per_epoch=steps_per_epoch - offset,
                initial_epoch=epoch, epochs=epoch + 1, shuffle=False, validation_data=validation,
                callbacks=callbacks, verbose=0)
        epoch += 1
    if epoch < t.pretrain_epochs:
        mle.fit(mle_stream(train_ids, t.batch_size, t.seed, skip=epoch * steps_per_epoch),
                steps_per_epoch=steps_per_epoch, initial_epoch=epoch, epochs=t.pretrain_epochs, shuffle=False,
                validation_data=validation, callbacks=callbacks, verbose=0)

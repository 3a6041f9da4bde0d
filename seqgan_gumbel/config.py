"""The run configuration: nested dataclasses, validated, saved as JSON.

Each component owns its defaults here; nothing reads a global configuration at
import time. The configuration is plain data, so a run directory's config.json
is read with `json` and never evaluated.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.fileio import read_json

CONFIG_FORMAT_VERSION = 1
# The inverse-temperature schedules of `seqgan_gumbel.training.schedules`.
SCHEDULES = ("no", "lin", "exp", "log", "sigmoid", "quad", "sqrt")
LOSSES = ("standard", "rsgan", "hinge", "lsgan", "wgan-gp")
GENERATOR_TYPES = ("lstm", "rmc", "transformer")
STRATEGIES = ("none", "mirrored", "multiworker", "tpu")
# Keras dtype policies. float16 is not offered: it needs loss scaling, which
# the global-norm clipping of the train steps does not compose with.
PRECISIONS = ("float32", "mixed_bfloat16")
DISCRIMINATOR_TYPES = ("cnn", "multi_representation")
LONG_SENTENCE_POLICIES = ("drop", "truncate")
TOKENIZER_LEVELS = ("word", "char")


@dataclass
class DataConfig:
    """How the corpus is read and tokenized.

    Attributes:
        corpus: the training corpus, one sentence a line.
        test: the held-out corpus for BLEU and NLL_test (optional).
        validation: a held-out corpus for the MLE validation NLL after each
            epoch (optional; default: the test corpus). Needed by
            training.pretrain_keep_best, which must not select on the test
            corpus it is then scored on.
        grammar: a PCFG the corpus was sampled from (optional); the report
            then gives the fraction of samples it parses.
        level: "word" or "char" tokens.
        lowercase: lower-case sentences before tokenizing.
        min_frequency: rarer tokens become UNK.
        max_vocab_size: the most ids, special tokens included (0: no limit).
        max_length: the most tokens a sentence may have (EOS not counted).
        long_sentences: "drop" or "truncate" sentences longer than max_length.
        fixed_length: every sentence has exactly max_length tokens (the
            synthetic oracle's data): generators never end a sentence early.
        vocabulary: a file of tokens, one a line: the vocabulary in that id
            order (after PAD, BOS, EOS, UNK) instead of one built from the
            corpus (min_frequency and max_vocab_size then do not apply).
        validation_split: without a validation file, this fraction of the
            training sentences is held out as the validation corpus of the MLE
            phase (the same sentences whatever the seed; the vocabulary is
            still built from the whole corpus). 0: none, and the MLE phase's
            validation NLL is measured on the test corpus, where nothing may
            be selected.
    """

    corpus: str = ""
    test: str = ""
    validation: str = ""
    grammar: str = ""
    level: str = "word"
    lowercase: bool = False
    min_frequency: int = 1
    max_vocab_size: int = 0
    max_length: int = 20
    long_sentences: str = "drop"
    fixed_length: bool = False
    vocabulary: str = ""
    validation_split: float = 0.05


@dataclass
class GeneratorConfig:
    """The generator.

    Attributes:
        type: "lstm", "rmc" (RelGAN's relational memory core) or
            "transformer" (a causal transformer decoder).
        embedding_dim: token embedding size.
        hidden_dim: LSTM state size (lstm).
        mem_slots: memory slots (rmc).
        num_heads: attention heads (rmc, transformer).
        head_size: size of each attention head (rmc).
        num_layers: decoder blocks (transformer).
        feedforward_dim: feed-forward width (transformer).
        dropout: dropout rate (transformer).
        soft_feedback: during adversarial training, pass the gradient of the
            relaxed one-hot's embedding y @ E back through the next input
            (the recurrence becomes differentiable), while its forward value
            stays the sampled token's embedding (RelGAN feeds that alone).
            Straight-through, so the generator trained is exactly the one
            that `generate` samples; feeding y @ E forward (Kusner &
            Hernandez-Lobato) trains a generator that is never sampled.
    """

    type: str = "lstm"
    embedding_dim: int = 64
    hidden_dim: int = 128
    mem_slots: int = 1
    num_heads: int = 2
    head_size: int = 256
    num_layers: int = 2
    feedforward_dim: int = 512
    dropout: float = 0.1
    soft_feedback: bool = False


@dataclass
class DiscriminatorConfig:
    """The discriminator.

    Attributes:
        type: "cnn" (one embedding) or "multi_representation" (RelGAN's).
        embedding_dim: token embedding size (relaxed one-hots are embedded as y @ E).
        filter_sizes: convolution widths.
        num_filters: filters per width.
        dropout: dropout rate before the output layer.
        num_representations: embedding representations (multi_representation).
        hidden_dim: the linear layer before the logit (multi_representation).
        spectral_norm: spectral normalisation of the weights (multi_representation).
        loss_per_representation: compute the GAN loss on each representation's
            logit and average the losses, as RelGAN does (multi_representation);
            False: one loss on the mean logit.
    """

    type: str = "cnn"
    embedding_dim: int = 64
    filter_sizes: list[int] = field(default_factory=lambda: [2, 3, 4, 5])
    num_filters: int = 64
    dropout: float = 0.25
    num_representations: int = 64
    hidden_dim: int = 100
    spectral_norm: bool = False
    loss_per_representation: bool = True


@dataclass
class TrainingConfig:
    """Pretraining, adversarial training and the Gumbel-softmax temperature.

    Attributes:
        seed: seeds Python, numpy and TensorFlow.
        batch_size: sentences per batch.
        pretrain_epochs: MLE epochs over the corpus.
        pretrain_learning_rate: Adam learning rate for MLE.
        adversarial_steps: adversarial iterations (one generator step each).
        generator_learning_rate: Adam learning rate of the generator (adversarial).
        discriminator_learning_rate: Adam learning rate of the discriminator
            (ten times the generator's by default: at 1e-4 it stays at
            chance and its gradient carries no signal beyond the NLL term's;
            docs/adversarial-training.md).
        discriminator_steps: discriminator steps per generator step.
        grad_clip: global gradient-norm clip for both networks (0: none).
        loss: GAN loss name.
        schedule: inverse-temperature schedule name.
        beta_max: the inverse temperature 1/tau that the schedule reaches.
        straight_through: send hard one-hots to the discriminator, soft
            gradients back, so that it cannot tell a sample by how soft its
            vectors are (False: the relaxed vectors, as RelGAN and its
            presets). The default since the long COCO runs: with relaxed
            vectors the generator learns the length shortcut (-28% to -33%
            mean length over 1,800 steps, below its MLE curve), with hard
            ones it keeps its length and ends above the curve
            (docs/adversarial-training.md).
        pad_after_eos: relaxed samples hold exact PAD one-hots after their
            first EOS, passing no gradient there. False (RelGAN's way): the
            generator samples relaxed vectors to the maximum length, and MLE
            pretraining also trains it to emit PAD after EOS, so a sentence's
            length no longer sets how many relaxed (fake-looking) vectors the
            discriminator sees. NLL figures count tokens and EOS either way.
        generator_first: each adversarial iteration starts with the generator
            step, then the discriminator steps (RelGAN's order); False: after.
        mle_weight: the generator's adversarial loss plus this weight times
            its teacher-forced NLL (nats per token) of a fresh real batch:
            keeps the generator anchored to the data while the discriminator
            pushes it (0: a pure GAN, as RelGAN and its presets). Measured
            best of the variants tried on the default corpus, and needed
            against collapse on quick-gsgan (docs/adversarial-training.md).
        adversarial_weight: the weight of the adversarial loss in the
            generator's loss (1). 0 is the control of an ablation: the
            adversarial phase then trains the generator on the `mle_weight`
            NLL term alone, for the same steps with the same optimizer, so
            that a gain can be told from what those extra MLE steps bring.
        sample_every: write samples every this many adversarial steps (0: never).
        checkpoint_every: save weights every this many adversarial steps (0: only at the end).
        keep_checkpoints: how many adversarial checkpoints to keep.
        num_eval_samples: sentences generated for the final BLEU report.
        deterministic: turn on TensorFlow's op determinism (slower; CPU runs
            with a fixed seed are reproducible without it).
        gradient_penalty: WGAN-GP penalty weight (used with loss "wgan-gp").
        xla_pretraining: compile the MLE step with XLA (measured 15-20% faster
            on CPU); the adversarial step stays without XLA, where generating
            the Gumbel noise inside XLA is slower.
        strategy: "none", "mirrored" (all local GPUs, or logical CPUs),
            "multiworker" (TF_CONFIG) or "tpu": tf.distribute across devices;
            the batch size is the global batch, split between replicas.
        pretrained_generator: a generator_mle.keras of an earlier run with the
            same vocabulary and generator settings: MLE pretraining is
            skipped and adversarial training starts from it.
        precision: "float32", or "mixed_bfloat16": both networks compute in
            bfloat16 with float32 weights, optimizer state, softmax, Gumbel
            noise and losses (GPUs from Ampere on, TPUs, CPUs with AVX512-BF16).
        pretrain_keep_best: end MLE pretraining with the weights of the epoch
            whose validation NLL (data.validation, else the held-out
            data.validation_split) was lowest.
        pretrain_patience: with pretrain_keep_best, stop MLE pretraining once
            this many epochs have passed without a new lowest validation NLL
            (0: run every epoch). The choice so far is in every checkpoint,
            so a resumed run stops where the uninterrupted one does.
        pretrain_lr_decay: with pretrain_keep_best, after an epoch whose
            validation NLL is not the lowest so far, continue from the best
            epoch's weights with the MLE learning rate multiplied by this
            factor, so that pretraining ends nearer convergence than its first
            plateau (0: off; in (0, 1) otherwise; the default 0.1 was measured
            on the default corpus, COCO and EMNLP: docs/adversarial-training.md).
            The patience still counts epochs since the best one; raise
            pretrain_epochs to give the smaller rates epochs to run. Without
            pretrain_keep_best it has nothing to go back to and does nothing
            (the CLI's --no-keep-best-mle sets it to 0, and refuses an
            explicit --mle-lr-decay).
        monitor_samples: sentences sampled (temperature 1, the run's seed)
            every sample_every adversarial steps, and once from the MLE start,
            for the collapse monitor: mean length, distinct fraction and
            Self-BLEU-5, recorded as "monitor" records in metrics.jsonl; a
            warning is logged once when one falls below half the MLE start's.
        keep_best_gan: end the run with the generator of the monitored
            adversarial step (or step 0, the MLE start) with the largest
            frontier gap: BLEU-5 against data.validation (else data.test,
            else the training corpus) minus the MLE temperature curve's BLEU-5
            at the same Self-BLEU-5; steps whose mean length is not within 10%
            of the MLE start's, or outside the curve's range, are never kept.
    """

    seed: int = 1234
    batch_size: int = 64
    pretrain_epochs: int = 12
    pretrain_learning_rate: float = 1e-2
    adversarial_steps: int = 150
    generator_learning_rate: float = 1e-4
    discriminator_learning_rate: float = 1e-3
    discriminator_steps: int = 3
    grad_clip: float = 5.0
    loss: str = "rsgan"
    schedule: str = "exp"
    beta_max: float = 100.0
    schedule_steps: int = 0
    straight_through: bool = True
    pad_after_eos: bool = True
    generator_first: bool = False
    mle_weight: float = 1.0
    adversarial_weight: float = 1.0
    sample_every: int = 50
    checkpoint_every: int = 50
    keep_checkpoints: int = 3
    num_eval_samples: int = 1000
    deterministic: bool = False
    gradient_penalty: float = 10.0
    pretrained_generator: str = ""
    strategy: str = "none"
    xla_pretraining: bool = True
    precision: str = "float32"
    pretrain_keep_best: bool = True
    pretrain_patience: int = 2
    pretrain_lr_decay: float = 0.1
    monitor_samples: int = 200
    keep_best_gan: bool = False


@dataclass
class Config:
    """Everything a run needs; saved as config.json in the run directory."""

    data: DataConfig = field(default_factory=DataConfig)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    version: int = CONFIG_FORMAT_VERSION

    def validate(self) -> "Config":
        """Checks every setting.

        Returns:
            self, for chaining.

        Raises:
            UserInputError: a setting is out of range or an unknown name.
        """
        d, g, disc, t = self.data, self.generator, self.discriminator, self.training
        _choice("data.level", d.level, TOKENIZER_LEVELS)
        _choice("data.long_sentences", d.long_sentences, LONG_SENTENCE_POLICIES)
        _choice("training.loss", t.loss, LOSSES)
        _choice("training.schedule", t.schedule, SCHEDULES)
        _choice("generator.type", g.type, GENERATOR_TYPES)
        _choice("training.strategy", t.strategy, STRATEGIES)
        _choice("training.precision", t.precision, PRECISIONS)
        _choice("discriminator.type", disc.type, DISCRIMINATOR_TYPES)
        for name, value in [
            ("data.max_length", d.max_length),
            ("data.min_frequency", d.min_frequency),
            ("generator.embedding_dim", g.embedding_dim),
            ("generator.hidden_dim", g.hidden_dim),
            ("discriminator.embedding_dim", disc.embedding_dim),
            ("discriminator.num_filters", disc.num_filters),
            ("discriminator.num_representations", disc.num_representations),
            ("discriminator.hidden_dim", disc.hidden_dim),
            ("generator.mem_slots", g.mem_slots),
            ("generator.num_heads", g.num_heads),
            ("generator.head_size", g.head_size),
            ("generator.num_layers", g.num_layers),
            ("generator.feedforward_dim", g.feedforward_dim),
            ("training.batch_size", t.batch_size),
            ("training.adversarial_steps", t.adversarial_steps),
            ("training.discriminator_steps", t.discriminator_steps),
            ("training.keep_checkpoints", t.keep_checkpoints),
            ("training.num_eval_samples", t.num_eval_samples),
        ]:
            _positive(name, value)
        for name, value in [
            ("data.max_vocab_size", d.max_vocab_size),
            ("training.pretrain_epochs", t.pretrain_epochs),
            ("training.sample_every", t.sample_every),
            ("training.checkpoint_every", t.checkpoint_every),
            ("training.schedule_steps", t.schedule_steps),
            ("training.pretrain_patience", t.pretrain_patience),
            ("training.grad_clip", t.grad_clip),
            ("training.gradient_penalty", t.gradient_penalty),
            ("training.mle_weight", t.mle_weight),
            ("training.adversarial_weight", t.adversarial_weight),
        ]:
            if value < 0:
                raise UserInputError(f"{name} must be >= 0, got {value}")
        for name, value in [
            ("training.pretrain_learning_rate", t.pretrain_learning_rate),
            ("training.generator_learning_rate", t.generator_learning_rate),
            ("training.discriminator_learning_rate", t.discriminator_learning_rate),
            ("training.beta_max", t.beta_max),
        ]:
            if not value > 0:
                raise UserInputError(f"{name} must be > 0, got {value}")
        if t.adversarial_weight == 0 and t.mle_weight == 0 and t.adversarial_steps:
            raise UserInputError("training.adversarial_weight and training.mle_weight are both 0: nothing would "
                                 "train the generator in the adversarial phase")
        if not disc.filter_sizes or any(w < 1 for w in disc.filter_sizes):
            raise UserInputError(f"discriminator.filter_sizes must be positive widths, got {disc.filter_sizes}")
        if max(disc.filter_sizes) > d.max_length + 1:
            raise UserInputError(
                f"data.max_length + 1 = {d.max_length + 1} is shorter than the widest "
                f"discriminator filter ({max(disc.filter_sizes)})"
            )
        for name, rate in (("discriminator.dropout", disc.dropout), ("generator.dropout", g.dropout)):
            if not 0 <= rate < 1:
                raise UserInputError(f"{name} must be in [0, 1), got {rate}")
        if g.type == "transformer" and g.embedding_dim % g.num_heads:
            raise UserInputError(
                f"generator.embedding_dim ({g.embedding_dim}) must be divisible by generator.num_heads ({g.num_heads})"
            )
        if not 0 <= d.validation_split <= 0.5:
            raise UserInputError(f"data.validation_split must be in [0, 0.5], got {d.validation_split}")
        if t.pretrain_keep_best and not d.validation and not d.validation_split:
            raise UserInputError("training.pretrain_keep_best needs a validation corpus (--validation FILE, or "
                                 "--validation-split F > 0): selecting the epoch on the test corpus would bias "
                                 "its scores; --no-keep-best-mle runs every epoch and keeps the last")
        if not 0 <= t.pretrain_lr_decay < 1:
            raise UserInputError(f"training.pretrain_lr_decay must be in [0, 1) (0: off), got {t.pretrain_lr_decay}")
        if t.monitor_samples < 2:
            raise UserInputError(f"training.monitor_samples must be at least 2 (Self-BLEU), got {t.monitor_samples}")
        if t.keep_best_gan and not t.sample_every:
            raise UserInputError("training.keep_best_gan chooses among the steps monitored every "
                                 "training.sample_every steps: set training.sample_every > 0")
        if 0 < d.max_vocab_size < 5:
            raise UserInputError("data.max_vocab_size must be 0 (no limit) or at least 5")
        if d.vocabulary and (d.min_frequency != 1 or d.max_vocab_size):
            raise UserInputError("data.min_frequency and data.max_vocab_size shape a vocabulary built from the "
                                 "corpus; with data.vocabulary (--vocabulary FILE) the file is the vocabulary")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> "Config":
        """Builds a config from plain data, rejecting unknown keys and wrong types.

        Args:
            data: nested dictionaries as written by `to_dict`.
            source: names the origin in error messages (a file name).

        Returns:
            The validated config.

        Raises:
            UserInputError: unknown key, wrong type, unsupported version or bad value.
        """
        return cls().update(data, source)

    def update(self, data: dict[str, Any], source: str = "config") -> "Config":
        """Overrides the settings that `data` names (nested as in `to_dict`) and validates.

        Returns:
            self, for chaining.

        Raises:
            UserInputError: unknown key, wrong type, unsupported version or bad value.
        """
        if not isinstance(data, dict):
            raise UserInputError(f"{source}: a config must be a JSON object")
        version = data.get("version", CONFIG_FORMAT_VERSION)
        if version != CONFIG_FORMAT_VERSION:
            raise UserInputError(
                f"{source}: config version {version!r} is not supported (this is version {CONFIG_FORMAT_VERSION})"
            )
        sections = {f.name: f for f in dataclasses.fields(self) if f.name != "version"}
        unknown = sorted(set(data) - set(sections) - {"version"})
        if unknown:
            raise UserInputError(f"{source}: unknown config section(s) {unknown}; valid: {sorted(sections)}")
        for name, section_data in data.items():
            if name == "version":
                continue
            if not isinstance(section_data, dict):
                raise UserInputError(f"{source}: config section {name!r} must be an object")
            section = getattr(self, name)
            for key, value in section_data.items():
                _set_field(section, name, key, value, source)
        try:
            return self.validate()
        except UserInputError as exc:
            raise UserInputError(f"{source}: {exc}") from None

    @classmethod
    def load(cls, path: str | Path) -> "Config":
        """Reads a JSON config (a run's config.json) or, for a .toml file, a TOML one.

        Raises:
            UserInputError: missing, unreadable or invalid file.
        """
        return cls().update_from_file(path)

    def update_from_file(self, path: str | Path) -> "Config":
        """Overrides the settings a JSON or TOML config file names; see `update`."""
        data = _read_toml(path) if Path(path).suffix.lower() == ".toml" else read_json(path, "config")
        return self.update(data, source=str(path))

    def set(self, dotted_key: str, value: Any, source: str = "setting") -> None:
        """Sets one field by its dotted name, e.g. ``training.beta_max``."""
        section_name, _, key = dotted_key.partition(".")
        if section_name not in {f.name for f in dataclasses.fields(self)} or section_name == "version" or not key:
            raise UserInputError(f"{source}: unknown setting {dotted_key!r}")
        _set_field(getattr(self, section_name), section_name, key, value, source)


def preset_names() -> list[str]:
    """The names of the presets shipped in seqgan_gumbel/presets."""
    from importlib import resources

    folder = resources.files("seqgan_gumbel") / "presets"
    return sorted(entry.name[: -len(".toml")] for entry in folder.iterdir() if entry.name.endswith(".toml"))


def load_preset(name: str) -> Config:
    """A shipped preset (a documented TOML config), e.g. "coco" or "quick-oracle20".

    Raises:
        UserInputError: unknown name (the message lists the valid ones).
    """
    from importlib import resources

    if name not in preset_names():
        raise UserInputError(f"unknown preset {name!r}; valid: {', '.join(preset_names())}")
    with resources.as_file(resources.files("seqgan_gumbel") / "presets" / f"{name}.toml") as path:
        return Config.load(path)


def preset_description(name: str) -> str:
    """The comment block at the top of a preset file."""
    from importlib import resources

    text = (resources.files("seqgan_gumbel") / "presets" / f"{name}.toml").read_text(encoding="utf-8")
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").rstrip())
    return " ".join(lines)


def _read_toml(path: str | Path) -> dict:
    import tomllib

    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise UserInputError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserInputError(f"{path}: not a readable TOML config file ({exc})") from None


def _set_field(section: Any, section_name: str, key: str, value: Any, source: str) -> None:
    fields = {f.name: f for f in dataclasses.fields(section)}
    if key not in fields:
        raise UserInputError(
            f"{source}: unknown setting '{section_name}.{key}'; valid: {', '.join(sorted(fields))}"
        )
    expected = type(getattr(type(section)(), key))
    ok = isinstance(value, expected) and not (expected is not bool and isinstance(value, bool))
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if expected is list:
        ok = isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    if not ok:
        raise UserInputError(
            f"{source}: '{section_name}.{key}' must be of type {expected.__name__}, got {value!r}"
        )
    setattr(section, key, value)


def _choice(name: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise UserInputError(f"unknown {name} {value!r}; valid: {', '.join(valid)}")


def _positive(name: str, value: int) -> None:
    if value <= 0:
        raise UserInputError(f"{name} must be positive, got {value}")

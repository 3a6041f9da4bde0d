"""Networks from a run's settings: the one place that maps a `Config` to model arguments.

The models themselves take explicit arguments; training, the benchmarks and
anything else that builds the networks of a configuration call these.
"""

from __future__ import annotations

from seqgan_gumbel.config import Config
from seqgan_gumbel.models.cnn import CNNDiscriminator
from seqgan_gumbel.models.lstm import LSTMGenerator
from seqgan_gumbel.models.multi_representation import MultiRepresentationDiscriminator
from seqgan_gumbel.models.relational import RelationalMemoryGenerator
from seqgan_gumbel.models.transformer import TransformerGenerator


def build_generator(config: Config, vocab_size: int):
    """The generator a config describes.

    Args:
        config: the run's settings (`generator.*`, the maximum length and
            fixed-length flag of `data`, the precision of `training`).
        vocab_size: ids in the run's vocabulary.

    Returns:
        An unbuilt `LSTMGenerator`, `RelationalMemoryGenerator` or
        `TransformerGenerator` (`generator.type`).
    """
    g = config.generator
    common = dict(vocab_size=vocab_size, sequence_length=config.data.max_length + 1,
                  embedding_dim=g.embedding_dim, soft_feedback=g.soft_feedback,
                  fixed_length=config.data.fixed_length, dtype=config.training.precision)
    if g.type == "rmc":
        return RelationalMemoryGenerator(mem_slots=g.mem_slots, num_heads=g.num_heads, head_size=g.head_size, **common)
    if g.type == "transformer":
        return TransformerGenerator(num_layers=g.num_layers, num_heads=g.num_heads,
                                    feedforward_dim=g.feedforward_dim, dropout=g.dropout, **common)
    return LSTMGenerator(hidden_dim=g.hidden_dim, **common)


def build_discriminator(config: Config, vocab_size: int):
    """The discriminator a config describes.

    Args:
        config: the run's settings (`discriminator.*`, the maximum length of
            `data`, the precision of `training`).
        vocab_size: ids in the run's vocabulary.

    Returns:
        An unbuilt `CNNDiscriminator` or `MultiRepresentationDiscriminator`
        (`discriminator.type`).
    """
    d = config.discriminator
    common = dict(vocab_size=vocab_size, sequence_length=config.data.max_length + 1,
                  embedding_dim=d.embedding_dim, filter_sizes=d.filter_sizes, num_filters=d.num_filters,
                  dropout=d.dropout, dtype=config.training.precision)
    if d.type == "multi_representation":
        return MultiRepresentationDiscriminator(num_representations=d.num_representations, hidden_dim=d.hidden_dim,
                                                spectral_norm=d.spectral_norm, **common)
    return CNNDiscriminator(**common)

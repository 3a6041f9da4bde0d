"""Generator and discriminator networks (Keras models, no training logic)."""

from seqgan_gumbel.models.cnn import CNNDiscriminator
from seqgan_gumbel.models.lstm import LSTMGenerator
from seqgan_gumbel.models.multi_representation import MultiRepresentationDiscriminator
from seqgan_gumbel.models.relational import RelationalMemoryGenerator
from seqgan_gumbel.models.transformer import TransformerGenerator

__all__ = [
    "CNNDiscriminator",
    "LSTMGenerator",
    "MultiRepresentationDiscriminator",
    "RelationalMemoryGenerator",
    "TransformerGenerator",
]

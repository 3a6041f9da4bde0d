"""Generator and discriminator networks (Keras models, no training logic)."""

from seqgan_gumbel.models.discriminator import CNNDiscriminator
from seqgan_gumbel.models.generator import LSTMGenerator

__all__ = ["CNNDiscriminator", "LSTMGenerator"]

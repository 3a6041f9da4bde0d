"""RelGAN's multi-representation CNN discriminator (Nie et al., ICLR 2019)."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqgan_gumbel.models.layers import Highway, embed_one_hots


@keras.saving.register_keras_serializable(package="seqgan_gumbel")
class SpectralNorm(keras.layers.Layer):
    """Spectral normalisation of one kernel: W / sigma(W), sigma by power iteration.

    As in Miyato et al. (2018): the kernel is read as a matrix of shape
    (prod(shape[:-1]), shape[-1]); a persistent vector u (non-trainable weight)
    is refined by `power_iterations` steps v = norm(u W^T), u = norm(v W) on
    every call, and sigma = v W u^T. Gradients flow through sigma, not through
    u and v (stop-gradient, as in Miyato's implementation). The refined u is
    stored only when training, so inference is deterministic and a saved model
    reproduces its outputs exactly.

    Args:
        power_iterations: power-iteration steps per call.
        epsilon: added to norms before dividing.

    Call arguments:
        kernel: the raw kernel, any shape with at least 2 dimensions.
        training: stores the refined u.

    Returns from call:
        The kernel divided by its estimated largest singular value (same shape).
    """

    def __init__(self, power_iterations: int = 1, epsilon: float = 1e-12, **kwargs):
        super().__init__(**kwargs)
        if power_iterations < 1:
            raise ValueError(f"power_iterations must be >= 1, got {power_iterations}")
        self.power_iterations = power_iterations
        self.epsilon = epsilon

    def build(self, kernel_shape):
        self.u = self.add_weight(
            shape=(1, kernel_shape[-1]),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
            trainable=False,
            name="u",
        )

    def sigma(self, kernel, training=False):
        """The estimated largest singular value of `kernel` (scalar)."""
        matrix = tf.reshape(kernel, (-1, kernel.shape[-1]))
        u = tf.convert_to_tensor(self.u)
        for _ in range(self.power_iterations):
            v = tf.math.l2_normalize(tf.matmul(u, matrix, transpose_b=True), epsilon=self.epsilon)
            u = tf.math.l2_normalize(tf.matmul(v, matrix), epsilon=self.epsilon)
        u, v = tf.stop_gradient(u), tf.stop_gradient(v)
        if training:
            self.u.assign(u)
        return tf.squeeze(tf.matmul(tf.matmul(v, matrix), u, transpose_b=True))

    def call(self, kernel, training=False):
        return kernel / self.sigma(kernel, training=training)

    def get_config(self):
        config = super().get_config()
        config.update(power_iterations=self.power_iterations, epsilon=self.epsilon)
        return config


@keras.saving.register_keras_serializable(package="seqgan_gumbel")
class RepresentationConvolution(keras.layers.Layer):
    """Convolutions over time spanning one representation, shared by all, max-pooled.

    Each width w has a kernel of shape (w, embedding_dim, num_filters): a
    Conv1D over time with embedding_dim input channels, i.e. a conv2d with
    kernel (w, embedding_dim) over one representation's (time, embedding_dim)
    "image". The same kernels are applied to every representation: the input
    (batch, time, S, embedding_dim) is convolved by one conv2d with kernel
    (w, 1) and embedding_dim input channels, so representations lie along the
    width axis and nothing is transposed. One pass per width, each a single
    matmul-shaped convolution with embedding_dim input channels (not the
    1-input-channel, stride-embedding_dim conv2d of the TextGAN-PyTorch port).

    Max over time is taken before the bias and ReLU: relu(max_t(c_t) + b) ==
    max_t(relu(c_t + b)) because both are monotone, which saves two
    element-wise passes (and their gradients) over the largest activations.

    Args:
        filter_sizes: convolution widths (time steps).
        num_filters: filters per width.
        spectral_norm: normalise each kernel by its largest singular value.

    Call arguments:
        inputs: (batch, time, S, embedding_dim) floats; time >= max(filter_sizes).
        training: updates the spectral-norm power-iteration vectors.

    Returns from call:
        (batch, S, len(filter_sizes) * num_filters) floats, >= 0.
    """

    def __init__(self, filter_sizes=(2, 3, 4, 5), num_filters: int = 300, spectral_norm: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.filter_sizes = tuple(filter_sizes)
        self.num_filters = num_filters
        self.spectral_norm = spectral_norm
        self.normalizers = (
            [SpectralNorm(name=f"spectral_norm{width}", dtype=self.dtype_policy)
             for width in self.filter_sizes] if spectral_norm else []
        )

    def build(self, input_shape):
        embedding_dim = input_shape[-1]
        self.kernels = [
            self.add_weight(
                shape=(width, embedding_dim, self.num_filters),
                initializer="glorot_uniform",
                name=f"kernel{width}",
            )
            for width in self.filter_sizes
        ]
        self.bias = self.add_weight(
            shape=(len(self.filter_sizes) * self.num_filters,), initializer="zeros", name="bias"
        )
        for normalizer, kernel in zip(self.normalizers, self.kernels):
            normalizer.build(kernel.shape)

    def effective_kernels(self, training=False):
        """The kernels as applied: spectrally normalised when spectral_norm is set."""
        if not self.spectral_norm:
            return [tf.convert_to_tensor(kernel) for kernel in self.kernels]
        return [
            normalizer(tf.convert_to_tensor(kernel), training=training)
            for normalizer, kernel in zip(self.normalizers, self.kernels)
        ]

    def call(self, inputs, training=False):
        pooled = [
            tf.reduce_max(tf.nn.conv2d(inputs, kernel[:, tf.newaxis], strides=1, padding="VALID"), axis=1)
            for kernel in self.effective_kernels(training=training)
        ]
        return tf.nn.relu(tf.concat(pooled, axis=-1) + self.bias)

    def get_config(self):
        config = super().get_config()
        config.update(
            filter_sizes=list(self.filter_sizes),
            num_filters=self.num_filters,
            spectral_norm=self.spectral_norm,
        )
        return config


@keras.saving.register_keras_serializable(package="seqgan_gumbel")
class Linear(keras.layers.Layer):
    """A dense layer without activation, optionally spectrally normalised.

    Args:
        units: output features.
        spectral_norm: normalise the kernel by its largest singular value.

    Call arguments:
        inputs: (..., features) floats.
        training: updates the spectral-norm power-iteration vector.

    Returns from call:
        (..., units) floats.
    """

    def __init__(self, units: int, spectral_norm: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.spectral_norm = spectral_norm
        self.normalizer = SpectralNorm(name="spectral_norm", dtype=self.dtype_policy) if spectral_norm else None

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="glorot_uniform", name="kernel"
        )
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
        if self.normalizer is not None:
            self.normalizer.build(self.kernel.shape)

    def effective_kernel(self, training=False):
        """The kernel as applied: spectrally normalised when spectral_norm is set."""
        kernel = tf.convert_to_tensor(self.kernel)
        return kernel if self.normalizer is None else self.normalizer(kernel, training=training)

    def call(self, inputs, training=False):
        return tf.tensordot(inputs, self.effective_kernel(training=training), axes=1) + self.bias

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, spectral_norm=self.spectral_norm)
        return config


@keras.saving.register_keras_serializable(package="seqgan_gumbel")
class MultiRepresentationDiscriminator(keras.Model):
    """RelGAN's discriminator: S embedded representations, one shared CNN, mean logit.

    Each sentence is embedded into S = num_representations separate spaces of
    size embedding_dim (one matrix of shape (vocab_size, S * embedding_dim),
    read as S matrices of shape (vocab_size, embedding_dim)). Real sentences
    arrive as int ids and are embedded by lookup; generated ones arrive as
    (relaxed) one-hots y and are embedded into all S spaces at once by one
    einsum y @ E, so the two paths agree exactly on one-hot input.

    Every representation is a (time, embedding_dim) "image" fed through the
    same convolutions (widths filter_sizes, num_filters each, each spanning
    the whole embedding_dim), ReLU and max-over-time, giving per-representation
    features (batch, S, len(filter_sizes) * num_filters). These go through a
    highway layer shared by the representations (no biases and gate bias 0,
    as in RelGAN), dropout, a linear layer to hidden_dim and a linear layer to one
    logit per representation (no activation between them, as in RelGAN).

    RelGAN computes its loss on the (batch * S) per-representation logits;
    `representation_logits` returns them as (batch, S), and `GumbelGAN`
    trains on them (`discriminator.loss_per_representation`). `call` returns
    their mean over S, (batch,), so the model is a drop-in replacement for
    CNNDiscriminator. Because both final layers are linear, the mean is taken
    before them (same value, S times less work there). For a loss that is
    linear in the logits (e.g. WGAN) the two are equivalent; for non-linear
    losses (RSGAN, standard GAN) the mean of the per-representation losses is
    not the loss of the mean logit.

    RelGAN's released code (dis_emb_dim=64, num_rep=64) actually gives each
    representation 64 / 64 = 1 dimension: that is embedding_dim=1 here, and
    the rest of the network is then identical. The default embedding_dim=64
    follows the paper's reading (each representation its own 64-d embedding)
    and costs about 64 times more in the embedding and convolutions.

    Args:
        vocab_size: number of token ids.
        sequence_length: tokens per sentence (>= max(filter_sizes)).
        embedding_dim: size of each representation's embedding.
        num_representations: S, the number of embedded representations.
        filter_sizes: convolution widths.
        num_filters: filters per width.
        dropout: dropout rate after the highway layer (training only; RelGAN
            uses 0.25 always).
        hidden_dim: width of the linear layer before the logit.
        spectral_norm: spectrally normalise the convolution kernels and the
            two linear layers (not the embedding or highway, as in RelGAN).
            Power-iteration vectors are updated only when training.

    Call arguments:
        inputs: (batch, time) int ids or (batch, time, vocab_size) floats.
        training: enables dropout and spectral-norm updates.

    Returns from call:
        (batch,) logits, larger for "real": the mean over representations.
    """

    def __init__(
        self,
        vocab_size: int,
        sequence_length: int,
        embedding_dim: int = 64,
        num_representations: int = 64,
        filter_sizes=(2, 3, 4, 5),
        num_filters: int = 300,
        dropout: float = 0.25,
        hidden_dim: int = 100,
        spectral_norm: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.sequence_length = sequence_length
        self.embedding_dim = embedding_dim
        self.num_representations = num_representations
        self.filter_sizes = tuple(filter_sizes)
        self.num_filters = num_filters
        self.dropout_rate = dropout
        self.hidden_dim = hidden_dim
        self.spectral_norm = spectral_norm
        if sequence_length < max(self.filter_sizes):
            raise ValueError(
                f"sequence_length {sequence_length} is shorter than the widest filter {max(self.filter_sizes)}"
            )
        self.embedding = keras.layers.Embedding(
            vocab_size, num_representations * embedding_dim, name="embedding", dtype=self.dtype_policy
        )
        self.convolution = RepresentationConvolution(
            self.filter_sizes, num_filters, spectral_norm=spectral_norm, name="convolution", dtype=self.dtype_policy
        )
        # RelGAN's highway: no biases, gate bias 0.
        self.highway = Highway(transform_bias=0.0, use_bias=False, name="highway", dtype=self.dtype_policy)
        self.dropout = keras.layers.Dropout(dropout, dtype=self.dtype_policy)
        self.hidden = Linear(hidden_dim, spectral_norm=spectral_norm, name="hidden", dtype=self.dtype_policy)
        self.logit = Linear(1, spectral_norm=spectral_norm, name="logit", dtype=self.dtype_policy)
        self.build((None, sequence_length))

    def build(self, input_shape):
        batch, time = input_shape[0], input_shape[1]
        self.embedding.build((batch, time))
        self.convolution.build((batch, time, self.num_representations, self.embedding_dim))
        features = self.num_filters * len(self.filter_sizes)
        self.highway.build((batch, self.num_representations, features))
        self.hidden.build((batch, features))
        self.logit.build((batch, self.hidden_dim))
        self.built = True

    def embed(self, inputs):
        """(batch, time, S, embedding_dim): ids by lookup, (relaxed) one-hots by one einsum y @ E."""
        if inputs.dtype.is_integer:
            flat = self.embedding(inputs)
        else:
            flat = embed_one_hots(inputs, self.embedding)
        shape = tf.shape(flat)
        return tf.reshape(flat, (shape[0], shape[1], self.num_representations, self.embedding_dim))

    def features(self, inputs, training=False):
        """(batch, S, features): the per-representation features after highway and dropout."""
        pooled = self.convolution(self.embed(inputs), training=training)
        return self.dropout(self.highway(pooled), training=training)

    def representation_logits(self, inputs, training=False):
        """(batch, S) logits, one per representation, as RelGAN's loss uses them."""
        hidden = self.hidden(self.features(inputs, training=training), training=training)
        return tf.cast(tf.squeeze(self.logit(hidden, training=training), axis=-1), tf.float32)

    def call(self, inputs, training=False):
        pooled = tf.reduce_mean(self.features(inputs, training=training), axis=1)
        hidden = self.hidden(pooled, training=training)
        return tf.cast(tf.squeeze(self.logit(hidden, training=training), axis=-1), tf.float32)

    def get_config(self):
        config = super().get_config()
        config.update(
            vocab_size=self.vocab_size,
            sequence_length=self.sequence_length,
            embedding_dim=self.embedding_dim,
            num_representations=self.num_representations,
            filter_sizes=list(self.filter_sizes),
            num_filters=self.num_filters,
            dropout=self.dropout_rate,
            hidden_dim=self.hidden_dim,
            spectral_norm=self.spectral_norm,
        )
        return config

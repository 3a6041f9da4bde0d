"""Autoregressive sampling shared by every generator: relaxed (Gumbel-softmax)
samples for adversarial training, and plain sampling for generation."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqgan_gumbel.models.gumbel import gumbel_noise, gumbel_softmax
from seqgan_gumbel.models.layers import embed_one_hots
from seqgan_gumbel.corpus.tokenizer import BOS_ID, EOS_ID, PAD_ID


class AutoregressiveGenerator(keras.Model):
    """A language model over token ids that samples one token at a time.

    The base owns what every generator shares: the vocabulary size, the
    sentence length, the token `embedding` layer, the soft-feedback switch and
    their part of `get_config`. Subclasses implement `call` (teacher-forced
    logits for MLE) and define one sampling step:

    - `initial_state(batch_size)`: the state before the first token;
    - `step(inputs_embedded, state) -> (logits, state)`: next-token logits
      from the embedding of the previous token.

    Everything else (relaxed sampling, generation, top-k/top-p, prefixes,
    log-probabilities, the PAD-after-EOS rule) lives here once.
    """

    def __init__(self, vocab_size: int, sequence_length: int, embedding_dim: int, soft_feedback: bool = False,
                 fixed_length: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.sequence_length = sequence_length
        self.embedding_dim = embedding_dim
        self.soft_feedback = soft_feedback
        # Fixed-length data (the synthetic oracle's): sentences never end early.
        self.fixed_length = fixed_length
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding", dtype=self.dtype_policy)

    def get_config(self):
        config = super().get_config()
        config.update(vocab_size=self.vocab_size, sequence_length=self.sequence_length,
                      embedding_dim=self.embedding_dim, soft_feedback=self.soft_feedback,
                      fixed_length=self.fixed_length)
        return config

    def _length_mask(self, t: int):
        """Logit offsets at position t: with fixed_length, EOS only (and always) at the end."""
        if not self.fixed_length:
            return None
        eos = tf.one_hot(EOS_ID, self.vocab_size)
        if t < self.sequence_length - 1:
            return eos * -1e9
        return (1.0 - eos) * -1e9

    def project_to_logits(self, features):
        """Next-token logits from output features, always float32.

        Under a mixed-precision policy the network computes in bfloat16, but
        the softmax, the Gumbel noise and the losses need float32's resolution.
        """
        return tf.cast(self.output_projection(features), tf.float32)

    def initial_state(self, batch_size: int):
        raise NotImplementedError

    def step(self, inputs_embedded, state):
        raise NotImplementedError

    def _initial(self, batch_size):
        return self.embedding(tf.fill((batch_size,), BOS_ID)), self.initial_state(batch_size)

    def sample_relaxed(self, batch_size: int, temperature, seed=None, hard: bool = False, pad_after_eos: bool = True):
        """Samples sentences as relaxed one-hots (the differentiable path).

        Each token is argmax(logits + g) (an exact sample of softmax(logits));
        its relaxed one-hot is softmax((logits + g) / temperature).

        What follows the first EOS depends on `pad_after_eos`. True: every
        later position becomes an exact PAD one-hot, as in the real data.
        Those exact positions pass no gradient, and they are the one part of
        a relaxed sentence that looks exactly like real data, so a
        discriminator that spots soft vectors rewards ending early. False
        (RelGAN's way): the generator keeps sampling relaxed vectors to the
        maximum length, PAD being a token it emits (train it to with MLE
        padding targets), so every sentence carries as many relaxed vectors
        whatever its length, and every position passes gradient.

        With `soft_feedback`, the next input is the sampled token's embedding
        forward and y @ E backward (straight-through), so the recurrence
        carries gradient while the forward pass is exactly the one that
        `generate` runs: the generator that is trained is the one sampled.

        Args:
            batch_size: sentences to sample (a Python int).
            temperature: tau > 0, a float or scalar tensor.
            seed: optional stateless seed (shape [2] int32 tensor) for the noise.
            hard: straight-through one-hots (hard forward, soft gradient).
            pad_after_eos: exact PAD after the first EOS (see above).

        Returns:
            (one_hots, token_ids): (batch, time, vocab) floats and (batch, time)
            int32; token_ids always hold PAD after the first EOS.
        """
        inputs, states = self._initial(batch_size)
        alive = tf.ones((batch_size,), tf.bool)
        pad_row = tf.one_hot(PAD_ID, self.vocab_size)
        one_hots, token_ids = [], []
        for t in range(self.sequence_length):
            logits, states = self.step(inputs, states)
            if self.fixed_length:
                logits += self._length_mask(t)
            # One draw per step: with no dependence on the recurrence, the
            # draws run alongside it (one draw for all steps up front would
            # make the first step wait for all of them: measured slower).
            noise = _noise((batch_size, self.vocab_size), seed, t)
            y, tokens = gumbel_softmax(logits, temperature, noise=noise, hard=hard)
            one_hots.append(tf.where(alive[:, None], y, pad_row) if pad_after_eos else y)
            token_ids.append(tf.where(alive, tokens, PAD_ID))
            alive = tf.logical_and(alive, tokens != EOS_ID)
            inputs = self.embedding(tokens)
            if self.soft_feedback:
                soft = embed_one_hots(y, self.embedding)
                inputs = inputs + (soft - tf.stop_gradient(soft))
        return tf.stack(one_hots, axis=1), tf.stack(token_ids, axis=1)

    def generate(self, batch_size: int, temperature=1.0, seed=None, top_k: int = 0, top_p: float = 1.0,
                 forced_tokens=None):
        """Samples sentences token by token from softmax(logits / temperature).

        Args:
            batch_size: sentences to sample.
            temperature: softmax temperature (1.0 samples the model itself).
            seed: optional stateless seed (shape [2] int32 tensor).
            top_k: sample among the k most likely tokens only (0: all).
            top_p: nucleus sampling: the smallest set of most likely tokens
                whose probability reaches top_p (1.0: all).
            forced_tokens: optional (time,) int32 tensor: where >= 0, that
                token is emitted instead of a sample (a prefix to continue).

        Returns:
            (batch, time) int32 ids; PAD after the first EOS.
        """
        return self.generate_with_log_probs(batch_size, temperature, seed, top_k, top_p, forced_tokens)[0]

    def generate_with_log_probs(self, batch_size: int, temperature=1.0, seed=None, top_k: int = 0,
                                top_p: float = 1.0, forced_tokens=None):
        """`generate`, also returning each sentence's log-probability under the model.

        The log-probability is that of the untempered, unfiltered model
        distribution, summed over the tokens up to and including EOS.

        Returns:
            ((batch, time) int32 ids, (batch,) float32 log-probabilities in nats).
        """
        inputs, states = self._initial(batch_size)
        # Finished sentences leave the batch: each step computes only the
        # `rows` (indices into the batch) still writing, so a trained model's
        # sampling costs its sentences' mean length, not the maximum length.
        rows = tf.range(batch_size)
        log_prob = tf.zeros((batch_size,))
        # PAD and BOS never occur inside a real sentence: never emit them.
        never = tf.constant([-float("inf") if i in (PAD_ID, BOS_ID) else 0.0 for i in range(self.vocab_size)])
        token_ids = []
        for t in range(self.sequence_length):
            logits, states = self.step(inputs, states)
            if self.fixed_length:
                logits += self._length_mask(t)
            scaled = _filter_logits(logits / temperature + never, top_k, top_p)
            tokens = _categorical(scaled, seed, t)
            if forced_tokens is not None:
                tokens = tf.where(forced_tokens[t] >= 0, tf.fill(tf.shape(tokens), forced_tokens[t]), tokens)
            token_log_prob = tf.gather(tf.nn.log_softmax(logits), tokens, axis=1, batch_dims=1)
            log_prob = tf.tensor_scatter_nd_add(log_prob, rows[:, None], token_log_prob)
            # PAD (id 0) wherever no sentence is writing.
            token_ids.append(tf.scatter_nd(rows[:, None], tokens, (batch_size,)))
            writing = tokens != EOS_ID
            rows = tf.boolean_mask(rows, writing)
            if rows.shape[0] == 0:
                # Every sentence has ended (known only when running eagerly; a
                # traced graph runs the remaining steps on an empty batch,
                # which some eager kernels refuse): the rest is PAD.
                token_ids += [tf.zeros((batch_size,), tf.int32)] * (self.sequence_length - t - 1)
                break
            states = tf.nest.map_structure(lambda s: tf.boolean_mask(s, writing) if s.shape.rank else s, states)
            inputs = self.embedding(tf.boolean_mask(tokens, writing))
        return tf.stack(token_ids, axis=1), log_prob



def _filter_logits(logits, top_k: int, top_p: float):
    """Masks (to -inf) the tokens that top-k and nucleus sampling exclude."""
    if top_k:
        kth_largest = tf.math.top_k(logits, k=top_k).values[:, -1:]
        logits = tf.where(logits < kth_largest, float("-inf"), logits)
    if top_p < 1.0:
        sorted_logits = tf.sort(logits, axis=-1, direction="DESCENDING")
        probs = tf.nn.softmax(sorted_logits, axis=-1)
        # A token stays if the tokens more likely than it hold less than top_p.
        keep = (tf.cumsum(probs, axis=-1) - probs) < top_p
        smallest_kept = tf.reduce_min(tf.where(keep, sorted_logits, float("inf")), axis=-1, keepdims=True)
        logits = tf.where(logits < smallest_kept, float("-inf"), logits)
    return logits


def _categorical(logits, seed, step):
    # Inverse-CDF sampling needs one random number per row; Gumbel-max would
    # need one (and two logarithms) per vocabulary entry: twice as slow here.
    if seed is None:
        return tf.random.categorical(logits, 1, dtype=tf.int32)[:, 0]
    step_seed = tf.random.experimental.stateless_fold_in(seed, step)
    return tf.random.stateless_categorical(logits, 1, seed=step_seed, dtype=tf.int32)[:, 0]


def _noise(shape, seed, step):
    if seed is None:
        return gumbel_noise(shape)
    # A distinct stateless seed per time step, derived from the call's seed.
    return gumbel_noise(shape, seed=tf.random.experimental.stateless_fold_in(seed, step))

"""Training on several devices or machines with tf.distribute.

Keras's `fit` runs each `train_step` once per replica on that replica's share
of the global batch. Two things keep a distributed step equal to a
single-device step on the same global batch:

- losses are divided so that summing the replicas' gradients gives the
  gradient of the global-batch loss (`global_mean`), and
- gradients are all-reduced *before* clipping (`reduce_and_clip`): Keras's
  optimizers clip each replica's partial gradient before summing them, which
  is not the same as clipping the global gradient.
"""

from __future__ import annotations

import tensorflow as tf

from seqgan_gumbel.config import STRATEGIES


def make_strategy(name: str) -> tf.distribute.Strategy:
    """A tf.distribute strategy by name.

    Args:
        name: "none" (the default strategy, one device), "mirrored" (every local
            GPU, or every logical CPU device when there is no GPU),
            "multiworker" (MultiWorkerMirroredStrategy; the cluster comes from
            the TF_CONFIG environment variable) or "tpu" (TPUStrategy on the
            TPU the environment points to).

    Returns:
        The strategy.
    """
    if name == "none":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if tf.config.list_logical_devices("GPU"):
            return tf.distribute.MirroredStrategy()
        return tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")])
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"unknown strategy {name!r}; valid: {', '.join(STRATEGIES)}")


def num_replicas() -> int:
    """Replicas of the current strategy (1 outside any strategy)."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def replica_id() -> tf.Tensor:
    """This replica's index (0 outside any strategy), as an int32 tensor."""
    context = tf.distribute.get_replica_context()
    if context is None:
        return tf.constant(0, tf.int32)
    return tf.cast(context.replica_id_in_sync_group, tf.int32)


def global_sum(value: tf.Tensor) -> tf.Tensor:
    """The sum of a value over all replicas (the value itself on one device)."""
    context = tf.distribute.get_replica_context()
    if context is None or num_replicas() == 1:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def global_mean(per_replica_mean: tf.Tensor) -> tf.Tensor:
    """Scales a replica's mean loss so that the replicas' gradients sum to the global mean's."""
    return per_replica_mean / num_replicas()


def reduce_and_clip(gradients, clip_norm: float):
    """All-reduces gradients, clips the global gradient, and hands back per-replica shares.

    The optimizer sums what each replica passes it, so each replica passes
    1/replicas of the clipped global gradient.

    Args:
        gradients: this replica's gradients (None for unused variables).
        clip_norm: global-norm clip (0: none).

    Returns:
        The gradients to pass to `optimizer.apply_gradients`.
    """
    replicas = num_replicas()
    present = [i for i, g in enumerate(gradients) if g is not None]
    values = [tf.convert_to_tensor(gradients[i]) for i in present]
    if replicas > 1:
        values = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, values)
    if clip_norm:
        values, _ = tf.clip_by_global_norm(values, clip_norm)
    if replicas > 1:
        values = [v / replicas for v in values]
    result = list(gradients)
    for i, v in zip(present, values):
        result[i] = v
    return result


def single_worker_note(name: str, strategy: tf.distribute.Strategy) -> str | None:
    """The one line a run prints when `--strategy multiworker` finds no cluster to join.

    Args:
        name: the strategy's name in the config.
        strategy: the strategy `make_strategy(name)` returned.

    Returns:
        The note, or None when there is nothing to say.
    """
    if name == "multiworker" and not _multi_worker(strategy):
        return ("note: --strategy multiworker found no cluster in TF_CONFIG (unset, or a single worker): "
                "training as one worker")
    return None


def _multi_worker(strategy: tf.distribute.Strategy | None = None) -> bool:
    strategy = strategy or tf.distribute.get_strategy()
    extended = getattr(strategy, "extended", None)
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and bool(
        getattr(extended, "_in_multi_worker_mode", lambda: False)()
    )


def step_logs(logs: dict) -> dict:
    """A train step's logs in the shape Keras can reduce across replicas.

    Across several workers Keras averages logs with a reduction along axis 0,
    which a scalar does not have; there each value becomes a 1-element vector
    (Keras hands back the scalar mean). Elsewhere the scalars pass unchanged.
    """
    if not _multi_worker():
        return logs
    return {name: tf.reshape(value, [1]) for name, value in logs.items()}

"""tf.distribute: two logical CPU replicas match one device; two workers on 127.0.0.1 train together."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from conftest import REPO_ROOT, tiny_sentences

# Runs in a fresh interpreter: logical devices must be set before TensorFlow starts.
MIRRORED_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from seqgan_gumbel.models import LSTMGenerator
    from seqgan_gumbel.training.distribution import make_strategy, single_worker_note
    from seqgan_gumbel.training.mle import MLETrainer

    ids = np.random.default_rng(0).integers(4, 40, (16, 9)).astype("int32")
    ids[:, 6:] = 0
    ids[:, 5] = 2

    def one_step(strategy_name):
        keras.utils.set_random_seed(0)
        strategy = make_strategy(strategy_name)
        with strategy.scope():
            g = LSTMGenerator(40, 9, embedding_dim=8, hidden_dim=16)
            trainer = MLETrainer(g)
            trainer.compile(optimizer=keras.optimizers.SGD(0.5), grad_clip=0.05)
        data = tf.data.Dataset.from_tensor_slices(ids).batch(16)
        history = trainer.fit(data, epochs=1, verbose=0, shuffle=False)
        return strategy.num_replicas_in_sync, history.history["nll"][0], [w.tolist() for w in g.get_weights()]

    single = one_step("none")
    mirrored = one_step("mirrored")
    notes = [single_worker_note(name, make_strategy(name)) for name in ("none", "mirrored", "multiworker")]
    print(json.dumps({"replicas": [single[0], mirrored[0]], "nll": [single[1], mirrored[1]], "notes": notes,
                      "max_weight_diff": max(float(np.max(np.abs(np.array(a) - np.array(b))))
                                             for a, b in zip(single[2], mirrored[2]))}))
""")


def _env(**extra):
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO_ROOT), **extra)


def test_two_logical_cpu_replicas_give_the_single_device_step():
    result = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT], capture_output=True, text=True,
                            env=_env(), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == [1, 2]
    # No TF_CONFIG here: "multiworker" says that it trains as one worker.
    assert report["notes"][:2] == [None, None] and "training as one worker" in report["notes"][2]
    # The loss of the same global batch, and the weights after one clipped update, agree.
    assert report["nll"][0] == pytest.approx(report["nll"][1], rel=1e-5)
    assert report["max_weight_diff"] < 1e-5


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_workers_on_localhost_train_together(tmp_path):
    corpus = tmp_path / "train.txt"
    corpus.write_text("".join(s + "\n" for s in tiny_sentences(128, 0)))
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    settings = ["--max-length", "8", "--batch-size", "16", "--pretrain-epochs", "1", "--adversarial-steps", "2",
                "--strategy", "multiworker", "--log-format", "jsonl", "--set", "generator.hidden_dim=8",
                "--set", "generator.embedding_dim=4", "--set", "discriminator.num_filters=4",
                "--set", "training.num_eval_samples=10", "--set", "training.discriminator_steps=1"]
    processes = []
    for index in range(2):
        tf_config = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "seqgan_gumbel", "train", "--corpus", str(corpus),
             "--out", str(tmp_path / f"worker{index}"), *settings],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(TF_CONFIG=tf_config)))
    outputs = [p.communicate(timeout=600) for p in processes]
    for process, (_, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr[-3000:]
        assert "training on 2 replicas (multiworker)" in stderr and "training as one worker" not in stderr
    # Synchronous all-reduce: both workers end with the same generator, hence the same samples.
    samples = [(tmp_path / f"worker{i}" / "samples" / "final.txt").read_text() for i in range(2)]
    assert samples[0] == samples[1]

import numpy as np

from seqgan_gumbel.corpus.pipelines import adversarial_batches, mle_batches


def test_mle_batches_drop_remainder_when_training_and_keep_all_for_evaluation():
    ids = np.arange(10 * 4, dtype=np.int32).reshape(10, 4)
    train = list(mle_batches(ids, 4, seed=0))
    assert [b.shape[0] for b in train] == [4, 4]
    evaluation = np.concatenate([b.numpy() for b in mle_batches(ids, 4, seed=0, shuffle=False)])
    np.testing.assert_array_equal(evaluation, ids)


def test_adversarial_batches_hold_fresh_real_batches_for_every_step():
    ids = np.arange(6 * 3, dtype=np.int32).reshape(6, 3)
    element = next(iter(adversarial_batches(ids, batch_size=2, batches_per_step=3, seed=0)))
    assert element.shape == (2, 3, 3)  # batch first, for tf.distribute
    rows = {tuple(r) for r in element.numpy().reshape(-1, 3)}
    assert len(rows) == 6  # one pass without repeats: fresh real sentences per step


def test_shuffling_is_seeded():
    ids = np.arange(50, dtype=np.int32).reshape(50, 1)
    first = [b.numpy().tolist() for b in mle_batches(ids, 5, seed=3)]
    second = [b.numpy().tolist() for b in mle_batches(ids, 5, seed=3)]
    assert first == second

"""The SeqGAN oracle: NLL_oracle figures, an independent numpy check, sampling, files."""

from pathlib import Path

import numpy as np
import pytest

from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.corpus.oracle import (
    WEIGHT_NAMES,
    Oracle,
    load_oracle_weights,
    make_oracle_corpus,
    read_sequences,
    write_sequences,
)

from conftest import shared_dataset


def random_weights(vocab_size: int, hidden_size: int, seed: int, scale: float = 1.0) -> dict:
    """Oracle arrays of the right shapes, normal with the given scale."""
    rng = np.random.default_rng(seed)
    shapes = {"embedding": (vocab_size, hidden_size), "Wo": (hidden_size, vocab_size), "bo": (vocab_size,)}
    for gate in ("i", "f", "og", "c"):
        shapes[f"W{gate}"] = shapes[f"U{gate}"] = (hidden_size, hidden_size)
        shapes[f"b{gate}"] = (hidden_size,)
    return {name: (scale * rng.standard_normal(shape)).astype(np.float32) for name, shape in shapes.items()}


def numpy_token_nll(weights: dict, sequences: np.ndarray) -> np.ndarray:
    """The README's equations, written out plainly in float64, one sequence at a time."""
    w = {name: np.asarray(array, dtype=np.float64) for name, array in weights.items()}

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    result = []
    for sequence in sequences:
        h = np.zeros(w["Ui"].shape[0])
        c = np.zeros(w["Ui"].shape[0])
        previous, total = 0, 0.0
        for token in sequence:
            x = w["embedding"][previous]
            i = sigmoid(x @ w["Wi"] + h @ w["Ui"] + w["bi"])
            f = sigmoid(x @ w["Wf"] + h @ w["Uf"] + w["bf"])
            o = sigmoid(x @ w["Wog"] + h @ w["Uog"] + w["bog"])
            c = f * c + i * np.tanh(x @ w["Wc"] + h @ w["Uc"] + w["bc"])
            h = o * np.tanh(c)
            logits = h @ w["Wo"] + w["bo"]
            top = logits.max()
            log_z = top + np.log(np.exp(logits - top).sum())
            total += log_z - logits[token]
            previous = token
        result.append(total / len(sequence))
    return np.array(result)


@pytest.fixture(scope="module")
def real_weights():
    return load_oracle_weights(shared_dataset("oracle", "seqgan_oracle_params.npz"))


@pytest.fixture(scope="module")
def real_oracle(real_weights):
    return Oracle(real_weights)


@pytest.fixture(scope="module")
def tiny_weights():
    return random_weights(vocab_size=50, hidden_size=8, seed=3, scale=1.5)


@pytest.fixture(scope="module")
def tiny_oracle(tiny_weights):
    return Oracle(tiny_weights, sequence_length=6)


# ----------------------------------------------------------------------------- published figures


def test_own_samples_score_5_75(real_oracle):
    samples = real_oracle.sample(10000, seed=0)
    assert samples.shape == (10000, 20) and samples.dtype == np.int32
    assert real_oracle.nll(samples) == pytest.approx(5.75, abs=0.02)


def test_uniform_random_sequences_score_11_42(real_oracle):
    sequences = np.random.default_rng(0).integers(0, 5000, size=(10000, 20))
    assert real_oracle.nll(sequences) == pytest.approx(11.42, abs=0.05)


def test_real_oracle_matches_numpy_equations(real_weights, real_oracle):
    rng = np.random.default_rng(1)
    sequences = np.concatenate([real_oracle.sample(3, seed=7), rng.integers(0, 5000, size=(3, 20))])
    expected = numpy_token_nll(real_weights, sequences)
    np.testing.assert_allclose(real_oracle.token_nll(sequences), expected, atol=1e-4, rtol=0)
    assert real_oracle.nll(sequences) == pytest.approx(expected.mean(), abs=1e-4)


def test_real_sampling_is_deterministic_per_seed(real_oracle):
    first = real_oracle.sample(5, seed=11)
    np.testing.assert_array_equal(first, real_oracle.sample(5, seed=11))
    assert not np.array_equal(first, real_oracle.sample(5, seed=12))


# ----------------------------------------------------------------------------- tiny oracle (no ../shared needed)


def test_tiny_oracle_matches_numpy_equations(tiny_weights, tiny_oracle):
    sequences = np.random.default_rng(2).integers(0, 50, size=(7, 6))
    expected = numpy_token_nll(tiny_weights, sequences)
    # A batch size that splits the input unevenly exercises the last short batch.
    np.testing.assert_allclose(tiny_oracle.token_nll(sequences, batch_size=3), expected, atol=1e-4, rtol=0)
    assert tiny_oracle.nll(sequences) == pytest.approx(expected.mean(), abs=1e-4)


def test_sampling_is_deterministic_and_seed_dependent(tiny_oracle):
    samples = tiny_oracle.sample(300, seed=5, batch_size=128)
    assert samples.shape == (300, 6) and samples.dtype == np.int32
    assert samples.min() >= 0 and samples.max() < 50
    np.testing.assert_array_equal(samples, tiny_oracle.sample(300, seed=5, batch_size=128))
    assert not np.array_equal(samples, tiny_oracle.sample(300, seed=6, batch_size=128))
    # Batches are drawn full size, so a shorter draw is a prefix of a longer one.
    np.testing.assert_array_equal(tiny_oracle.sample(10, seed=5, batch_size=128), samples[:10])
    # Later batches get their own seeds rather than repeating the first.
    assert not np.array_equal(samples[:128], samples[128:256])


def test_first_token_frequencies_follow_the_softmax():
    weights = random_weights(vocab_size=6, hidden_size=4, seed=9)
    oracle = Oracle(weights, sequence_length=1)
    # With one position, p(y) = exp(-NLL(y)), which the numpy reference gives independently.
    probabilities = np.exp(-numpy_token_nll(weights, np.arange(6)[:, None]))
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-9)
    samples = oracle.sample(20000, seed=1, batch_size=5000)[:, 0]
    frequencies = np.bincount(samples, minlength=6) / len(samples)
    # 20,000 draws: the standard error of a frequency is at most 0.0036.
    np.testing.assert_allclose(frequencies, probabilities, atol=0.015)


def test_nll_rejects_bad_sequences(tiny_oracle):
    with pytest.raises(ValueError, match=r"shape \(N, 6\)"):
        tiny_oracle.nll(np.zeros((3, 5), dtype=np.int32))
    with pytest.raises(ValueError, match=r"shape \(N, 6\)"):
        tiny_oracle.nll(np.zeros(6, dtype=np.int32))
    with pytest.raises(ValueError, match="id 50 is outside"):
        tiny_oracle.nll(np.full((2, 6), 50))
    with pytest.raises(ValueError, match="id -1 is outside"):
        tiny_oracle.nll(np.full((2, 6), -1))
    with pytest.raises(ValueError, match="integer ids"):
        tiny_oracle.nll(np.zeros((2, 6), dtype=np.float32))
    with pytest.raises(ValueError, match="no sequence"):
        tiny_oracle.nll(np.zeros((0, 6), dtype=np.int32))


def test_sample_rejects_bad_arguments(tiny_oracle):
    with pytest.raises(ValueError, match="num"):
        tiny_oracle.sample(0, seed=1)
    with pytest.raises(ValueError, match="seed"):
        tiny_oracle.sample(3, seed=1.5)
    with pytest.raises(ValueError, match="batch_size"):
        tiny_oracle.sample(3, seed=1, batch_size=0)


def test_oracle_rejects_inconsistent_weights(tiny_weights):
    bad = dict(tiny_weights, Wo=np.zeros((8, 49), np.float32))
    with pytest.raises(ValueError, match="'Wo' has shape"):
        Oracle(bad)
    with pytest.raises(ValueError, match="missing array"):
        Oracle({k: v for k, v in tiny_weights.items() if k != "Uc"})


# ----------------------------------------------------------------------------- sequence files


def test_write_read_round_trip(tmp_path):
    sequences = np.random.default_rng(4).integers(0, 5000, size=(25, 20)).astype(np.int32)
    path = tmp_path / "samples.txt"
    write_sequences(path, sequences)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n") and text.count("\n") == 25
    assert text.splitlines()[0] == " ".join(str(i) for i in sequences[0])
    back = read_sequences(path)
    assert back.dtype == np.int32
    np.testing.assert_array_equal(back, sequences)


def test_read_accepts_extra_whitespace_and_trailing_blank_lines(tmp_path):
    path = tmp_path / "s.txt"
    row = " ".join(["7"] * 20)
    path.write_text(f"{row}\r\n  {row.replace(' ', chr(9))}  \n\n\n", encoding="utf-8")
    np.testing.assert_array_equal(read_sequences(path), np.full((2, 20), 7))


def test_read_rejects_a_blank_line_as_an_empty_sample(tmp_path):
    path = tmp_path / "s.txt"
    row = " ".join(["7"] * 20)
    path.write_text(f"{row}\n\n{row}\n", encoding="utf-8")
    with pytest.raises(UserInputError, match="line 2: expected exactly 20 tokens, found 0"):
        read_sequences(path)


@pytest.mark.parametrize(
    "bad_line, message",
    [
        (" ".join(["1"] * 13), "line 3: expected exactly 20 tokens, found 13.*stopped early"),
        (" ".join(["1"] * 21), "line 3: expected exactly 20 tokens, found 21"),
        (" ".join(["1"] * 19 + ["dog"]), "line 3: token 'dog' is not an integer id"),
        (" ".join(["1"] * 19 + ["2.5"]), "line 3: token '2.5' is not an integer id"),
        (" ".join(["1"] * 19 + ["5000"]), r"line 3: id 5000 is outside the vocabulary \[0, 5000\)"),
        (" ".join(["-1"] + ["1"] * 19), "line 3: id -1 is outside"),
    ],
)
def test_read_errors_name_file_and_line(tmp_path, bad_line, message):
    path = tmp_path / "samples.txt"
    good = " ".join(["4"] * 20)
    path.write_text(f"{good}\n{good}\n{bad_line}\n{good}\n", encoding="utf-8")
    with pytest.raises(UserInputError, match=message) as info:
        read_sequences(path)
    assert str(info.value).startswith(f"{path}: line 3: ")
    assert "\n" not in str(info.value)


def test_read_missing_and_empty_files(tmp_path):
    with pytest.raises(UserInputError, match="not found"):
        read_sequences(tmp_path / "none.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(UserInputError, match="empty"):
        read_sequences(empty)


def test_write_rejects_non_integer_arrays(tmp_path):
    with pytest.raises(ValueError):
        write_sequences(tmp_path / "x.txt", np.zeros((2, 20), dtype=np.float32))
    with pytest.raises(ValueError):
        write_sequences(tmp_path / "x.txt", np.zeros((0, 20), dtype=np.int32))
    assert not (tmp_path / "x.txt").exists()


# ----------------------------------------------------------------------------- weight files


def save_npz(path: Path, arrays: dict) -> Path:
    np.savez(path, **arrays)
    return path


@pytest.fixture(scope="module")
def fake_full_weights():
    # The benchmark's shapes, random values: load_oracle_weights insists on 5000 x 32.
    return random_weights(vocab_size=5000, hidden_size=32, seed=0, scale=0.3)


def test_load_round_trip_of_a_valid_archive(tmp_path, fake_full_weights):
    path = save_npz(tmp_path / "w.npz", dict(fake_full_weights, extra=np.zeros(3)))
    loaded = load_oracle_weights(path)
    assert sorted(loaded) == sorted(WEIGHT_NAMES)
    for name in WEIGHT_NAMES:
        assert loaded[name].dtype == np.float32
        np.testing.assert_array_equal(loaded[name], fake_full_weights[name])


def test_load_missing_file_and_directory(tmp_path):
    with pytest.raises(UserInputError, match="oracle weights file not found") as info:
        load_oracle_weights(tmp_path / "none.npz")
    assert str(tmp_path / "none.npz") in str(info.value)
    with pytest.raises(UserInputError, match="is a directory"):
        load_oracle_weights(tmp_path)


def test_load_rejects_files_that_are_not_npz(tmp_path):
    text = tmp_path / "w.npz"
    text.write_text("not an archive\n", encoding="utf-8")
    with pytest.raises(UserInputError, match=r"not an \.npz archive") as info:
        load_oracle_weights(text)
    assert str(info.value).startswith(f"{text}: ")
    npy = tmp_path / "w.npy"
    np.save(npy, np.zeros((5000, 32), np.float32))
    with pytest.raises(UserInputError, match=r"not an \.npz archive"):
        load_oracle_weights(npy)


def test_load_rejects_pickled_object_arrays(tmp_path, fake_full_weights):
    objects = np.empty(2, dtype=object)
    objects[:] = [np.zeros(3), "x"]
    path = save_npz(tmp_path / "w.npz", dict(fake_full_weights, bo=objects))
    with pytest.raises(UserInputError, match="cannot read the .npz archive") as info:
        load_oracle_weights(path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda w: w.pop("Uog"), "missing array.*Uog"),
        (lambda w: w.update(Wo=np.zeros((32, 4999), np.float32)), r"'Wo' has shape \(32, 4999\), expected \(32, 5000\)"),
        (lambda w: w.update(embedding=np.zeros((50, 8), np.float32)), r"'embedding' has shape \(50, 8\)"),
        (lambda w: w.update(bi=np.zeros(32, np.int32)), "'bi' has dtype int32"),
        (lambda w: w.update(bc=np.full(32, np.nan, np.float32)), "'bc' contains NaN"),
    ],
)
def test_load_rejects_bad_arrays(tmp_path, fake_full_weights, change, message):
    weights = dict(fake_full_weights)
    change(weights)
    path = save_npz(tmp_path / "w.npz", weights)
    with pytest.raises(UserInputError, match=message) as info:
        load_oracle_weights(path)
    assert str(info.value).startswith(f"{path}: ")
    assert "\n" not in str(info.value)


def test_load_accepts_float64_as_float32(tmp_path, fake_full_weights):
    weights = {k: v.astype(np.float64) for k, v in fake_full_weights.items()}
    loaded = load_oracle_weights(save_npz(tmp_path / "w.npz", weights))
    assert all(array.dtype == np.float32 for array in loaded.values())


# ----------------------------------------------------------------------------- corpus


def test_make_oracle_corpus_writes_scored_files(tmp_path, fake_full_weights):
    weights_path = save_npz(tmp_path / "w.npz", fake_full_weights)
    result = make_oracle_corpus(weights_path, tmp_path / "out", num_train=30, num_test=20, train_seed=3, test_seed=4)
    assert result["train"] == str(tmp_path / "out" / "train.txt")
    assert result["test"] == str(tmp_path / "out" / "test.txt")
    train, test = read_sequences(result["train"]), read_sequences(result["test"])
    assert train.shape == (30, 20) and test.shape == (20, 20)
    oracle = Oracle(load_oracle_weights(weights_path))
    np.testing.assert_array_equal(train, oracle.sample(30, seed=3))
    assert result["nll_train"] == pytest.approx(oracle.nll(train), abs=1e-6)
    assert result["nll_test"] == pytest.approx(oracle.nll(test), abs=1e-6)
    with pytest.raises(ValueError, match="must differ"):
        make_oracle_corpus(weights_path, tmp_path / "out2", train_seed=5, test_seed=5)


def test_nll_of_tokens_scores_only_whole_sequences_of_oracle_ids(tiny_oracle):
    length, vocab = tiny_oracle.sequence_length, tiny_oracle.vocab_size
    good = tiny_oracle.sample(3, seed=0)
    samples = [[str(i) for i in row] for row in good] + [
        [str(i) for i in good[0][:-1]],                   # ended early
        [str(i) for i in good[0][:-1]] + ["<unk>"],       # an unknown token
        [str(i) for i in good[0][:-1]] + [str(vocab)],    # not an oracle id
        [str(i) for i in good[0][:-1]] + ["\u0663"],      # a non-ASCII digit
    ]
    assert all(len(s) == length for s in samples[:3])
    assert tiny_oracle.nll_of_tokens(samples) == (tiny_oracle.nll(good), 3)
    assert tiny_oracle.nll_of_tokens(samples[3:]) == (None, 0)

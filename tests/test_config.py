import json

import pytest

from seqgan_gumbel.config import LOSSES, SCHEDULES, Config
from seqgan_gumbel.errors import UserInputError
from seqgan_gumbel.training.losses import GAN_LOSSES
from seqgan_gumbel.training.schedules import SCHEDULES as SCHEDULE_NAMES


def test_defaults_validate_and_round_trip_through_json(tmp_path):
    config = Config().validate()
    path = tmp_path / "config.json"
    path.write_text(config.to_json())
    assert Config.load(path) == config


def test_names_match_the_implementations():
    assert set(LOSSES) == set(GAN_LOSSES)
    assert SCHEDULES == SCHEDULE_NAMES


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("training.beta_max", 0.0, "beta_max must be > 0"),
        ("training.batch_size", 0, "batch_size must be positive"),
        ("data.max_length", -1, "max_length must be positive"),
        ("training.adversarial_steps", 0, "adversarial_steps must be positive"),
        ("training.schedule", "cosine", "valid: no, lin, exp, log, sigmoid, quad, sqrt"),
        ("training.loss", "wgan", "valid: standard, rsgan, hinge, lsgan"),
        ("data.max_length", 2, "widest discriminator filter"),
        ("training.precision", "mixed_float16", "valid: float32, mixed_bfloat16"),
    ],
)
def test_bad_settings_are_rejected(key, value, message):
    config = Config()
    config.set(key, value)
    with pytest.raises(UserInputError, match=message):
        config.validate()


def test_unknown_keys_list_the_valid_ones():
    with pytest.raises(UserInputError, match="valid: .*beta_max"):
        Config().set("training.beta", 2.0)
    with pytest.raises(UserInputError, match="unknown config section"):
        Config.from_dict({"optim": {}}, source="x.json")


def test_types_are_checked_and_ints_widen_to_floats():
    config = Config()
    config.set("training.beta_max", 5)
    assert config.training.beta_max == 5.0 and isinstance(config.training.beta_max, float)
    with pytest.raises(UserInputError, match="must be of type int"):
        config.set("training.batch_size", "64")
    with pytest.raises(UserInputError, match="must be of type bool"):
        config.set("data.lowercase", 1)


def test_unknown_version_and_malformed_file(tmp_path):
    with pytest.raises(UserInputError, match="version 99 is not supported"):
        Config.from_dict({"version": 99})
    bad = tmp_path / "c.json"
    bad.write_text("{not json")
    with pytest.raises(UserInputError, match="c.json: not a readable JSON config file"):
        Config.load(bad)
    bad.write_text(json.dumps({"training": {"seed": "x"}}))
    with pytest.raises(UserInputError, match="c.json"):
        Config.load(bad)


def test_toml_config(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('[training]\nbeta_max = 1000.0\nschedule = "lin"\n\n[data]\nmax_length = 37\n')
    config = Config.load(path)
    assert (config.training.beta_max, config.training.schedule, config.data.max_length) == (1000.0, "lin", 37)
    path.write_text("[training\n")
    with pytest.raises(UserInputError, match="run.toml: not a readable TOML config"):
        Config.load(path)


def test_every_preset_loads_and_documents_itself():
    from seqgan_gumbel.config import load_preset, preset_description, preset_names

    names = preset_names()
    assert {"oracle20", "oracle40", "coco", "coco-1000", "emnlp", "emnlp-1000", "gsgan"} <= set(names)
    for name in names:
        config = load_preset(name)
        assert config.validate() is config
        assert len(preset_description(name)) > 30, name
    coco = load_preset("coco")
    assert (coco.generator.type, coco.generator.head_size, coco.discriminator.type) == ("rmc", 256, "multi_representation")
    assert (coco.discriminator.embedding_dim, coco.discriminator.num_representations) == (1, 64)
    assert (coco.training.beta_max, coco.data.max_length, coco.training.loss) == (100.0, 37, "rsgan")
    assert load_preset("oracle20").training.beta_max == 1.0 and load_preset("oracle40").training.beta_max == 2.0
    with pytest.raises(UserInputError, match="valid: .*coco"):
        load_preset("cocoa")


def test_relgan_presets_keep_relgans_relaxed_pure_gan_and_the_defaults_do_not():
    from seqgan_gumbel.config import load_preset, preset_names

    # The defaults: straight-through one-hots and the NLL anchor (docs/adversarial-training.md).
    assert Config().training.straight_through and Config().training.mle_weight == 1.0
    relgan = [name for name in preset_names() if load_preset(name).generator.type == "rmc"]
    assert {"coco", "emnlp", "oracle20", "quick-coco", "quick-oracle40"} <= set(relgan)
    for name in relgan:  # RelGAN: relaxed vectors to the discriminator, no NLL term
        training = load_preset(name).training
        assert (training.straight_through, training.mle_weight) == (False, 0.0), name
    for name in ("gsgan", "quick-gsgan"):
        assert load_preset(name).training.straight_through, name


def test_config_file_overrides_preset_even_with_default_values(tmp_path):
    from seqgan_gumbel.cli import build_parser, config_from_args

    path = tmp_path / "c.toml"
    path.write_text('[generator]\ntype = "lstm"\n')  # the default value, over the preset's "rmc"
    args = build_parser().parse_args(["train", "--out", "x", "--preset", "coco", "--config", str(path)])
    config = config_from_args(args)
    assert config.generator.type == "lstm" and config.training.beta_max == 100.0

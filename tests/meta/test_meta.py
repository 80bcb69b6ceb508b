"""course_lib.meta: the glyph set, episodes, and the three meta-learners (MANN, ProtoNet, MAML)."""

import doctest
import importlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib.meta import episodes, glyphs, mann, maml, protonet


@pytest.mark.parametrize("name", ["glyphs", "episodes", "mann", "protonet", "maml", "yt8m"])
def test_docstring_examples(name):
    module = importlib.import_module(f"course_lib.meta.{name}")
    result = doctest.testmod(module, extraglobs={"np": np}, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# ---- glyphs -----------------------------------------------------------------------------------


def test_glyphs_are_deterministic_and_seed_dependent():
    first, codes = glyphs.render_glyphs(renders=3, seed=5, max_classes=40)
    again, codes_again = glyphs.render_glyphs(renders=3, seed=5, max_classes=40)
    other, _ = glyphs.render_glyphs(renders=3, seed=6, max_classes=40)
    assert first.shape == (40, 3, 28, 28) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(codes, codes_again)
    assert not np.array_equal(first, other)
    # Every render has ink, and the renders of one class differ (the distortions are random).
    assert (first.reshape(40 * 3, -1).max(axis=1) > 128).all()
    assert not np.array_equal(first[:, 0], first[:, 1])


def test_glyph_classes_are_distinct_letters():
    _, codes = glyphs.render_glyphs(renders=1, max_classes=200)
    assert len(set(codes)) == len(codes)
    assert all(chr(c).isalpha() for c in codes)


def test_load_glyphs_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_HOME", str(tmp_path))
    monkeypatch.setattr(glyphs, "render_glyphs", lambda renders, seed: (np.full((2, renders, 28, 28), 255, np.uint8),
                                                                        np.array([65, 66])))
    images, codes = glyphs.load_glyphs(renders=4, seed=0)
    assert glyphs.cache_path(4, 0).exists() and images.dtype == np.float32 and images.max() == 1.0
    monkeypatch.setattr(glyphs, "render_glyphs", None)  # a second load must come from the cache
    cached, _ = glyphs.load_glyphs(renders=4, seed=0)
    np.testing.assert_array_equal(images, cached)


def test_class_split_is_disjoint_and_complete():
    parts = glyphs.split_classes(1000, seed=3)
    names = list(parts)
    assert names == ["train", "validation", "test"]
    joined = np.concatenate([parts[n] for n in names])
    assert sorted(joined) == list(range(1000))
    with pytest.raises(ValueError, match="fractions"):
        glyphs.split_classes(10, fractions=(0.5, 0.5, 0.5))


# ---- episodes ---------------------------------------------------------------------------------


def _toy_classes(num_classes=30, per_class=6):
    """Example value = 100 * class + index: a value says which class it came from."""
    return (100 * np.arange(num_classes)[:, None] + np.arange(per_class)[None]).astype(np.float32)[..., None]


@pytest.mark.parametrize("as_list", [False, True])
def test_episode_shapes_and_labels(as_list):
    data = _toy_classes()
    sampler = episodes.EpisodeSampler(list(data) if as_list else data, num_ways=5, num_shots=2, num_queries=3, seed=0)
    episode = sampler.sample(4)
    assert episode["support"].shape == (4, 10, 1) and episode["query"].shape == (4, 15, 1)
    np.testing.assert_array_equal(episode["support_labels"][0], np.repeat(np.arange(5), 2))
    np.testing.assert_array_equal(episode["query_labels"][0], np.repeat(np.arange(5), 3))
    for b in range(4):
        support_class = episode["support"][b, :, 0] // 100
        query_class = episode["query"][b, :, 0] // 100
        # Label n is class classes[b, n], in support and query alike; support and query are disjoint.
        np.testing.assert_array_equal(support_class, episode["classes"][b][episode["support_labels"][b]])
        np.testing.assert_array_equal(query_class, episode["classes"][b][episode["query_labels"][b]])
        assert not set(episode["support"][b, :, 0]) & set(episode["query"][b, :, 0])
    # Labels are re-drawn per episode: a class does not keep its label.
    assert len({tuple(row) for row in sampler.sample(50)["classes"]}) == 50


def test_fixed_episodes_repeat_and_splits_never_mix():
    images = _toy_classes(100)
    parts = glyphs.split_classes(100, seed=0)
    drawn = {}
    for name, index in parts.items():
        sampler = episodes.EpisodeSampler(images[index], num_ways=3, num_shots=1, seed=1)
        np.testing.assert_array_equal(sampler.fixed(8)["support"], sampler.fixed(8)["support"])
        drawn[name] = set((sampler.sample(200)["support"][..., 0] // 100).astype(int).ravel())
    assert not drawn["train"] & drawn["test"] and not drawn["train"] & drawn["validation"]
    assert not drawn["validation"] & drawn["test"]


def test_sampler_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_ways"):
        episodes.EpisodeSampler(_toy_classes(3), num_ways=4, num_shots=1)
    with pytest.raises(ValueError, match="num_shots"):
        episodes.EpisodeSampler(_toy_classes(10, 3), num_ways=2, num_shots=3)


def test_mann_inputs_layout():
    sampler = episodes.EpisodeSampler(_toy_classes(), num_ways=3, num_shots=2, seed=0)
    episode = sampler.sample(64)
    images, labels = episodes.mann_inputs(episode, 3, seed=0)
    assert images.shape == (64, 3, 3, 1) and labels.shape == (64, 3, 3, 3)
    # Support sets: one example of each class in label order; each image's label is its class's.
    np.testing.assert_array_equal(labels[:, :2], np.broadcast_to(np.eye(3), (64, 2, 3, 3)))
    for b in range(64):
        for k in range(3):
            classes = images[b, k, :, 0] // 100
            np.testing.assert_array_equal(classes, episode["classes"][b][labels[b, k].argmax(-1)])
    # The query order is shuffled: not always 0, 1, 2.
    assert (labels[:, -1].argmax(-1) != np.arange(3)).any(axis=1).mean() > 0.5
    _, unshuffled = episodes.mann_inputs(episode, 3, shuffle_query=False)
    np.testing.assert_array_equal(unshuffled[:, -1].argmax(-1), np.broadcast_to(np.arange(3), (64, 3)))


# ---- MANN -------------------------------------------------------------------------------------


def test_query_labels_are_zeroed_and_do_not_leak():
    labels = np.ones((2, 3, 2, 2), np.float32)
    zeroed = keras.ops.convert_to_numpy(mann.zero_query_labels(labels))
    assert (zeroed[:, -1] == 0).all() and (zeroed[:, :-1] == 1).all()
    model = mann.MANN(num_ways=2, units=8)
    images = np.random.default_rng(0).random((2, 3, 2, 5)).astype(np.float32)
    other = labels.copy()
    other[:, -1] = np.eye(2)[::-1]
    np.testing.assert_allclose(model({"images": images, "labels": labels}),
                               model({"images": images, "labels": other}))


def test_mann_trains_with_fit_and_round_trips():
    sampler = episodes.EpisodeSampler(_toy_classes(20, 4) * np.ones((1, 1, 6)) / 2000, num_ways=2, num_shots=1)
    model = mann.MANN(num_ways=2, units=16, seed=3)
    model.compile(optimizer="adam", jit_compile=False)  # XLA is the bench's and the notebook's; compiling costs a minute
    history = model.fit(mann.mann_dataset(sampler, 8), steps_per_epoch=3, epochs=2, verbose=0)
    assert set(history.history) == {"loss", "accuracy"} and np.isfinite(history.history["loss"]).all()
    clone = mann.MANN.from_config(model.get_config())
    assert (clone.num_ways, clone.units, clone.seed) == (2, 16, 3)
    with pytest.raises(ValueError, match="units"):
        mann.MANN(num_ways=2, units=0)


# ---- prototypical networks --------------------------------------------------------------------


def _numpy_prototypical_loss(support, support_labels, query, query_labels, num_ways):
    losses = []
    for s, sl, q, ql in zip(support, support_labels, query, query_labels):
        prototypes = np.stack([s[sl == n].mean(axis=0) for n in range(num_ways)])
        for x, y in zip(q, ql):
            logits = -((x - prototypes) ** 2).sum(axis=1)
            losses.append(np.log(np.exp(logits - logits.max()).sum()) + logits.max() - logits[y])
    return np.mean(losses)


@pytest.mark.parametrize("shots,queries", [(1, 5), (3, 2), (2, 2)])
def test_prototypical_loss_matches_numpy(shots, queries):
    rng = np.random.default_rng(shots * 10 + queries)
    ways, dim, batch = 4, 6, 3
    support = rng.normal(size=(batch, ways * shots, dim)).astype(np.float32)
    query = rng.normal(size=(batch, ways * queries, dim)).astype(np.float32)
    support_labels = np.stack([rng.permutation(np.repeat(np.arange(ways), shots)) for _ in range(batch)])
    query_labels = np.stack([rng.permutation(np.repeat(np.arange(ways), queries)) for _ in range(batch)])
    loss, accuracy = protonet.prototypical_loss(support, support_labels, query, query_labels, ways)
    expected = _numpy_prototypical_loss(support, support_labels, query, query_labels, ways)
    np.testing.assert_allclose(float(loss), expected, rtol=1e-5)
    assert 0 <= float(accuracy) <= 1


def test_protonet_trains_with_fit_and_round_trips():
    sampler = episodes.EpisodeSampler(_toy_classes(20, 6) * np.ones((1, 1, 4)) / 2000, num_ways=3, num_shots=1,
                                      num_queries=2)
    net = protonet.PrototypicalNetwork(protonet.mlp_encoder(4, units=(16, 8)), num_ways=3)
    net.compile(optimizer="adam", jit_compile=False)
    history = net.fit(protonet.episode_dataset(sampler, 4), steps_per_epoch=3, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all() and "accuracy" in history.history
    clone = protonet.PrototypicalNetwork.from_config(net.get_config())
    assert clone.num_ways == 3 and len(clone.encoder.layers) == len(net.encoder.layers)


def test_conv_encoder_shape():
    assert protonet.conv_encoder(filters=8, seed=1)(np.zeros((2, 28, 28))).shape == (2, 8)


# ---- MAML -------------------------------------------------------------------------------------


def test_sinusoid_tasks_follow_the_paper():
    tasks = maml.sinusoid_tasks(500, seed=0)
    assert tasks["support_x"].shape == (500, 10, 1) and tasks["query_y"].shape == (500, 10, 1)
    assert 0.1 <= tasks["amplitude"].min() and tasks["amplitude"].max() <= 5
    assert 0 <= tasks["phase"].min() and tasks["phase"].max() <= np.pi
    assert -5 <= tasks["support_x"].min() and tasks["support_x"].max() <= 5
    expected = tasks["amplitude"][:, None, None] * np.sin(tasks["support_x"] - tasks["phase"][:, None, None])
    np.testing.assert_allclose(tasks["support_y"], expected, rtol=1e-5, atol=1e-6)


def test_inner_step_matches_a_manual_update():
    model = maml.MAML(seed=2)
    tasks = maml.sinusoid_tasks(3, seed=1)
    adapted = model.adapt(tasks["support_x"], tasks["support_y"], steps=1, learning_rate=0.01)
    theta = [tf.convert_to_tensor(p) for p in model.params]
    for t in range(3):  # one task at a time, with a plain GradientTape and a plain update
        with tf.GradientTape() as tape:
            tape.watch(theta)
            prediction = maml.forward([p[None] for p in theta], tasks["support_x"][t : t + 1])
            loss = tf.reduce_mean((prediction - tasks["support_y"][t : t + 1]) ** 2)
        manual = [p - 0.01 * g for p, g in zip(theta, tape.gradient(loss, theta))]
        for got, want in zip(adapted, manual):
            np.testing.assert_allclose(got[t], want, rtol=1e-5, atol=1e-6)
    # Zero steps: phi_i = theta for every task.
    for got, want in zip(model.adapt(tasks["support_x"], tasks["support_y"], steps=0), theta):
        np.testing.assert_array_equal(got[1], want)


def test_maml_trains_with_fit_second_and_first_order():
    tasks = maml.sinusoid_tasks(50, seed=0)
    losses = {}
    for first_order in (False, True):
        model = maml.MAML(hidden_units=(8, 8), first_order=first_order, seed=0)
        model.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=True)
        history = model.fit(maml.task_dataset(tasks, 5), epochs=2, verbose=0)
        losses[first_order] = history.history["loss"]
        assert np.isfinite(losses[first_order]).all()
    assert losses[False] != losses[True]  # the second-order term changes the updates
    clone = maml.MAML.from_config(model.get_config())
    assert clone.hidden_units == (8, 8) and clone.first_order
    with pytest.raises(ValueError, match="inner_steps"):
        maml.MAML(inner_steps=-1)


# ---- YouTube-8M label episodes ------------------------------------------------------------------


def test_label_episodes_use_exclusive_videos_and_disjoint_labels():
    from course_lib.meta import yt8m

    rng = np.random.default_rng(0)
    labels = rng.random((600, 12)) < 0.25  # multi-label: many videos carry several labels
    features = np.arange(600, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)
    split = yt8m.split_labels(labels, min_videos=20, test_fraction=0.5, seed=0)
    assert not set(split["train"]) & set(split["test"])
    sampler = yt8m.LabelEpisodeSampler(features, labels, split["train"], 3, 2, num_queries=2, seed=0)
    episode = sampler.sample(10)
    assert episode["support"].shape == (10, 6, 3) and episode["query"].shape == (10, 6, 3)
    for b in range(10):
        chosen = episode["classes"][b]
        assert set(chosen) <= set(split["train"])
        for part in ("support", "query"):
            videos = episode[part][b, :, 0].astype(int)
            carried = labels[videos][:, chosen]
            assert (carried.sum(axis=1) == 1).all(), "an example carries exactly one of the episode's labels"
            np.testing.assert_array_equal(carried.argmax(axis=1), episode[f"{part}_labels"][b])
    accuracy = yt8m.nearest_mean_accuracy(episode)
    assert accuracy.shape == (10,) and ((0 <= accuracy) & (accuracy <= 1)).all()


# ---- the shared layer check ---------------------------------------------------------------------


def test_models_pass_the_shared_layer_check():
    from tests.layers.check import check_layer

    rng = np.random.default_rng(0)
    episode = {"images": rng.random((2, 2, 2, 6)).astype("float32"),
               "labels": np.tile(np.eye(2, dtype="float32"), (2, 2, 1, 1))}
    check_layer(lambda: mann.MANN(num_ways=2, units=8, seed=1), episode)
    tasks = maml.sinusoid_tasks(2)
    check_layer(lambda: maml.MAML(hidden_units=(8, 8), seed=1),
                {k: tasks[k] for k in ("support_x", "support_y", "query_x")})
    check_layer(lambda: protonet.PrototypicalNetwork(protonet.mlp_encoder(4, (8,), seed=1), num_ways=2),
                {"support": rng.random((2, 2, 4)).astype("float32"), "support_labels": np.array([[0, 1], [1, 0]]),
                 "query": rng.random((2, 3, 4)).astype("float32")}, mixed_dtype="float32")

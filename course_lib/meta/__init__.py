"""Meta-learning, taught in notebook 08: tasks as data, episodes, and three ways to adapt.

Modules, in the order the notebook teaches them:

- ``glyphs``: an offline Omniglot-like set, letters of many scripts rendered from the font inside
  matplotlib with random distortions; cached under ``data/glyphs/``; a class split into meta-train,
  meta-validation and meta-test.
- ``episodes``: the N-way K-shot ``EpisodeSampler`` (support and query sets, labels re-drawn per
  episode, fixed seeded evaluation episodes) and ``mann_inputs``, CS330 homework 1's layout.
- ``mann``: black-box adaptation, ``MANN`` (LSTM(128) -> LSTM(N) over label-concatenated episodes).
- ``protonet``: metric-based, ``PrototypicalNetwork`` and the prototypical loss.
- ``maml``: optimisation-based, ``MAML`` on the MAML paper's sinusoids (inner step in ``train_step``).
- ``yt8m``: few-shot episodes whose classes are YouTube-8M labels.

Every model is a Keras 3 model with its own ``train_step``, trained with ``fit``.
"""

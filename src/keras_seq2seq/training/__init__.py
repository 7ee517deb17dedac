"""Training: the builder (settings and data to an untrained bundle), the fit loop, its callbacks,
checkpoints to resume from, and data-parallel training.

    >>> from keras_seq2seq import training
    >>> bundle = training.train(pairs, dev_pairs, preset_settings, out_dir="runs/x",
    ...                         callbacks=[my_timer], max_steps=300)   # doctest: +SKIP

Everything here works on a `ModelBundle`; the model and the search know nothing of training.
"""

from keras_seq2seq.training.callbacks import TrainingDiverged
from keras_seq2seq.training.loop import fit, train

__all__ = ["fit", "train", "TrainingDiverged"]

"""keras-seq2seq: sequence-to-sequence learning with Keras 3."""

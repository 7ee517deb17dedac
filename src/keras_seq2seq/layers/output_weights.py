"""The output layer's weights as one matrix a row per target word, whole or for a shortlist.

Both decoders (recurrent and Transformer) score the target vocabulary the same way: with their
own output layer, or with the target embeddings when they are tied to it. Search code asks for the
weights of a shortlist once per batch and passes them back to every step (`shortlist_output`).
"""

from __future__ import annotations

from keras import ops


class OutputWeights:
    """Mixin for a decoder layer with `tie_embeddings`, `embedding`, and either `output_layer`
    (a Dense) or `output_bias` (a vector, when the embeddings are tied)."""

    def _output_weights(self):
        """`(vocab x in, vocab)`: the output layer's weights, one row per target word."""
        if not self.tie_embeddings:
            return ops.transpose(self.output_layer.kernel), self.output_layer.bias
        return ops.cast(self.embedding.embeddings, "float32"), self.output_bias

    def shortlist_output(self, shortlist):
        """The output weights of the shortlist's words (`size` ids, -1 for unused slots), gathered
        once per batch: `(size x in, size)`, unused slots with a bias no word ever loses to."""
        kernel, bias = self._output_weights()
        rows = ops.maximum(shortlist, 0)
        bias = ops.where(shortlist >= 0, ops.take(bias, rows), -1e9)
        return ops.take(kernel, rows, axis=0), bias

"""Export a trained model to ONNX: `seq2seq export --model DIR --out EXPORT_DIR [--int8]`.

The export holds two graphs, the encoder and one decoder step (attention and input feeding
included), with the vocabularies, tokeniser models, shortlist and a manifest; the runtime in
`keras_seq2seq.runtime` searches over them with numpy and onnxruntime alone.

Why the graphs are written by hand, from the trained weights, with `onnx.helper`:
the layers are few and small (embeddings, LSTM/GRU cells, three attention scores, dense
layers), so the graphs are a few hundred lines that mirror `layers/` one to one, need no
converter, and are exact (the exporter checks them against the Keras model before writing).
The converters we tried or weighed (docs/export.md has the dates and versions):

- `jax2onnx` 0.17.1 (JAX backend): converted the decoder step (in 42 s) but failed on the
  encoder ("reshape with symbolic dimensions requires mapping to input axes": our recurrent
  layers fold a free source length into a 2-D product), and installing it brings 37 more
  packages (flax, orbax, tensorstore, huggingface_hub, …): 1.1 GB with Keras and JAX.
- `tf2onnx` through Keras' `export`: needs TensorFlow, which the project does not use, and
  exports the teacher-forced `call`, not `encode` and `decode_step`.
- `torch.onnx` from the torch backend: Keras runs `ops.scan` there as a Python loop, so a traced
  encoder is fixed to the source length it was traced with.

The extra `keras-seq2seq[export]` brings `onnx` (graph building) and `onnxruntime` (the check
and int8 quantisation).
"""

from keras_seq2seq.export.exporter import export_model

__all__ = ["export_model"]

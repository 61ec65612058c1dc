"""Pruning a batch-norm TransformerNet to a smaller one: network slimming and residual-block removal.

`groups` says which weights every prunable channel lives in (channels joined by residual adds share
one group); `surgery` slices channels and removes blocks exactly; `slimming` scores channels by their
batch-norm gamma and picks the ones to keep (a fraction, or a MAC target); `blocks` measures how close
each residual block is to the identity; `finetune` runs the sparsity and recovery fine-tunes; `pipeline`
puts them together for `mobilestyle prune`.
"""

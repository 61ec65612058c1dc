"""Evaluation: how close a student's frames are to its teacher's (`mobilestyle evaluate`).

A stage after `runner`: it runs checkpoints with Keras and exported models with the runner, and
measures them with `mobilestyle.training.quality`. Only the CLI imports it.
"""

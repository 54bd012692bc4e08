"""The playground's standalone NumPy core, in the lecture's notation.

Usable on its own (a notebook needs nothing else)::

    from backend.core import Network, Trainer, TrainingConfig, make_dataset
"""

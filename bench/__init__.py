"""Speed of the core's training loop next to scikit-learn's MLPRegressor doing the same math.

Run it as ``python -m bench`` (``python -m bench --help`` for the options).
"""

"""Offline data sets for the examples: Keras' Boston split, UCI Sonar (bundled), 5000 MNIST digits.

Examples
--------
>>> import kfold
>>> kfold.datasets.load_sonar()[0].shape
(208, 60)
"""

from kfold.datasets.loaders import load_boston_housing, load_sonar, load_mnist_5k

__all__ = ["load_boston_housing", "load_sonar", "load_mnist_5k"]

"""Lazy imports of the training backend, with a clear message when it is missing.

kfold trains with Keras 3 and feeds data through ``tf.data``, so TensorFlow must be
installed: ``pip install "keras-kfold[tensorflow-cpu]"`` (or ``[tensorflow]`` for
GPUs). Nothing here runs at ``import kfold`` time.
"""
from __future__ import annotations

from types import ModuleType

__all__ = ["import_keras", "import_tensorflow"]

_INSTALL_HINT = (
    "kfold trains Keras models with the TensorFlow backend, and TensorFlow is not "
    "installed. Install it with the package: pip install \"keras-kfold[tensorflow-cpu]\" "
    "(CPU only) or pip install \"keras-kfold[tensorflow]\" (GPU)."
)


def import_tensorflow() -> ModuleType:
    """Return the ``tensorflow`` module, or raise ImportError saying how to install it.

    Examples
    --------
    >>> tf = import_tensorflow()
    >>> tf.__name__
    'tensorflow'
    """
    try:
        import tensorflow
    except ImportError as error:
        raise ImportError(_INSTALL_HINT) from error
    return tensorflow


def import_keras() -> ModuleType:
    """Return the ``keras`` module (Keras 3), after checking TensorFlow is there.

    Examples
    --------
    >>> keras = import_keras()
    >>> int(keras.__version__.split(".")[0]) >= 3
    True
    """
    import_tensorflow()
    import keras

    if int(keras.__version__.split(".")[0]) < 3:
        raise ImportError(
            f"kfold needs Keras 3. Received: keras=={keras.__version__}. "
            "Upgrade with: pip install -U keras"
        )
    return keras

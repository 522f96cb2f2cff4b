"""Shared helpers every layer may use: argument checks and messages, lazy imports, seeds, atomic files, the fold error."""

from kfold.core.errors import FoldError
from kfold.core.backend import as_tensor, batches_dataset, gpu_count, import_keras, import_tensorflow, limit_loaded_threads, profiles_batches
from kfold.core.checks import Described, check_bool, check_choice, check_fraction, check_path, check_positive_int, fail, message
from kfold.core.config import config_context, get_config
from kfold.core.deprecation import renamed_keywords
from kfold.core.files import package_versions, write_json
from kfold.core.interrupts import StopAfterEpoch, catching_interrupts, check_interrupt, deferring_interrupts
from kfold.core.memory import release_memory
from kfold.core.seeds import own_thread_stream, resolve_seed, seed_keras, user_random_state

__all__ = [
    "FoldError",
    "Described",
    "StopAfterEpoch",
    "as_tensor",
    "batches_dataset",
    "catching_interrupts",
    "check_bool",
    "check_choice",
    "check_fraction",
    "check_interrupt",
    "check_path",
    "check_positive_int",
    "config_context",
    "deferring_interrupts",
    "fail",
    "get_config",
    "gpu_count",
    "import_keras",
    "import_tensorflow",
    "limit_loaded_threads",
    "message",
    "own_thread_stream",
    "package_versions",
    "profiles_batches",
    "release_memory",
    "renamed_keywords",
    "resolve_seed",
    "seed_keras",
    "user_random_state",
    "write_json",
]

"""What can make floating-point results differ between machines, recorded beside results that may."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

# stages/__init__.py sets these to pin CPU code paths; a record says which were in force.
CODE_PATH_VARIABLES = ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES", "ONEDNN_MAX_CPU_ISA", "SOUNDMIND_NATIVE_MATH")


def numerical_code_paths() -> dict[str, Any]:
    """The library versions, numpy's dispatched SIMD targets and the BLAS kernels this process computes
    with: two processes that agree on these give features identical to the last bit."""
    import librosa
    import numpy
    import scipy
    import scipy.linalg  # scipy's own OpenBLAS, which feature work loads sooner or later: listed in every process alike
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    from threadpoolctl import threadpool_info

    return {
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "librosa": librosa.__version__,
        "numpy_simd_targets_in_use": sorted(name for name in __cpu_dispatch__ if __cpu_features__.get(name)),
        "blas": sorted({f"{info.get('internal_api')} {info.get('version')} ({info.get('architecture')})"
                        for info in threadpool_info() if info.get("user_api") == "blas"}),
    }


def machine_description() -> dict[str, Any]:
    """The CPU, its vector extensions, the numerical code paths in use (``numerical_code_paths``) and
    the code-path settings in force."""
    cpu_model, flags = platform.processor() or platform.machine(), set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name") and cpu_model in ("", platform.machine()):
                cpu_model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    return {
        "cpu": cpu_model,
        "avx2": "avx2" in flags,
        "avx512f": "avx512f" in flags,
        "python": platform.python_version(),
        **numerical_code_paths(),
        "code_path_settings": {name: os.environ[name] for name in CODE_PATH_VARIABLES if name in os.environ},
    }

"""Builds cairn's Cython extensions from native/.

Release flags by default.  CAIRN_DEBUG=1 turns on Cython bounds checks,
assertions (no -DNDEBUG, `assert` kept) and line tracing for coverage and
profilers.
"""
import os

from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("CAIRN_DEBUG", "") not in ("", "0")

directives = {
    "language_level": "3",
    "embedsignature": True,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": not DEBUG,
    "linetrace": DEBUG,
    "profile": DEBUG,
}
macros = [("CYTHON_TRACE", "1"), ("CYTHON_TRACE_NOGIL", "1")] if DEBUG else [("NDEBUG", "1")]
cflags = ["-O0", "-g3"] if DEBUG else ["-O2"]


def native(name, source, **kw):
    return Extension(
        name,
        [source],
        include_dirs=["native"],
        define_macros=macros,
        extra_compile_args=cflags,
        **kw,
    )


# HTTP/2 for gRPC comes from libnghttp2 (Debian libnghttp2-dev)
extensions = [
    native("cairn._codec", "native/codec/_codec.pyx", libraries=["nghttp2"]),
    native("cairn._raft", "native/raft/_raft.pyx"),
    native("cairn._mvcc", "native/mvcc/_mvcc.pyx"),
]



def build_native():
    if os.environ.get("CAIRN_SKIP_EXTENSIONS"):
        # the Makefile's editable install: it builds the extensions in place
        # itself, once, and again whenever a native source changes
        return []
    # Cython does not notice a flipped CAIRN_DEBUG: a stamp of the last
    # build's mode forces a full rebuild when it changes.
    stamp = os.path.join("build", "cython", "debug-mode")
    mode = "debug" if DEBUG else "release"
    force = not os.path.exists(stamp) or open(stamp).read() != mode
    os.makedirs(os.path.dirname(stamp), exist_ok=True)
    with open(stamp, "w") as f:
        f.write(mode)
    return cythonize(
        extensions,
        compiler_directives=directives,
        include_path=["native"],
        build_dir="build/cython",
        # assert statements are compiled out unless CAIRN_DEBUG is set
        compile_time_env={"CAIRN_DEBUG": DEBUG},
        force=force,
    )


setup(ext_modules=build_native())

"""Build of the Python extension smtpcore._core: the whole C core (every
csrc/**/*.c except the command-line tool) compiled together with
bindings/python/_core.c. Metadata lives in pyproject.toml; the version comes
from SMTPCORE_VERSION in csrc/include/smtpcore.h."""
import glob
import os
import re

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


def read_version():
    with open(os.path.join(HERE, "csrc", "include", "smtpcore.h"), encoding="utf-8") as f:
        m = re.search(r'^#define\s+SMTPCORE_VERSION\s+"([^"]+)"', f.read(), re.M)
    if not m:
        raise RuntimeError("SMTPCORE_VERSION not found in csrc/include/smtpcore.h")
    return m.group(1)


def core_sources():
    # Paths relative to this file, as setuptools wants them for the sdist.
    srcs = []
    for path in sorted(glob.glob(os.path.join(HERE, "csrc", "**", "*.c"), recursive=True)):
        rel = os.path.relpath(path, HERE).replace(os.sep, "/")
        if not rel.startswith("csrc/cli/"):
            srcs.append(rel)
    return srcs + ["bindings/python/_core.c"]


def headers():
    return sorted(os.path.relpath(p, HERE).replace(os.sep, "/")
                  for p in glob.glob(os.path.join(HERE, "csrc", "**", "*.h"), recursive=True))


class ParallelBuildExt(build_ext):
    """Compile the C sources of the one extension in parallel (about 40 files)."""

    def build_extension(self, ext):
        jobs = self.parallel or os.cpu_count() or 1
        if jobs > 1:
            from concurrent.futures import ThreadPoolExecutor
            compiler = self.compiler
            original = compiler.compile

            def compile_parallel(sources, output_dir=None, macros=None, include_dirs=None, debug=0,
                                 extra_preargs=None, extra_postargs=None, depends=None):
                def one(src):
                    return original([src], output_dir, macros, include_dirs, debug, extra_preargs,
                                    extra_postargs, depends)[0]
                with ThreadPoolExecutor(max_workers=jobs) as pool:
                    return list(pool.map(one, sources))

            compiler.compile = compile_parallel
            try:
                return super().build_extension(ext)
            finally:
                compiler.compile = original
        return super().build_extension(ext)


core = Extension(
    "smtpcore._core",
    sources=core_sources(),
    depends=headers(),
    include_dirs=["csrc/include", "csrc"],
    define_macros=[("_POSIX_C_SOURCE", "200809L"), ("_DEFAULT_SOURCE", None)],
    libraries=["ssl", "crypto", "idn2", "pthread"],
    extra_compile_args=["-std=c11"],
)

setup(
    version=read_version(),
    ext_modules=[core],
    cmdclass={"build_ext": ParallelBuildExt},
)

"""Build the Cython twins: every ext/*.pyx becomes ravenmigrate._native.<name>.

Without a C compiler, or with RAVENMIGRATE_PUREPYTHON=1, the package installs with its
pure-Python twins only (see ravenmigrate._twins).
"""
import glob
import os

from setuptools import setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """A failed native build leaves the pure twins in charge instead of failing the install."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any compiler failure means "pure install"
            print(f"ravenmigrate: native build skipped ({exc}); the pure-Python twins will be used")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            print(f"ravenmigrate: native module {ext.name} skipped ({exc})")


def extensions():
    if os.environ.get("RAVENMIGRATE_PUREPYTHON") == "1":
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    from setuptools import Extension

    exts = [
        Extension(f"ravenmigrate._native.{os.path.basename(p)[:-4]}", [p], include_dirs=["ext"],
                  extra_compile_args=["-O3"])
        for p in sorted(glob.glob("ext/*.pyx"))
    ]
    return cythonize(exts, language_level=3, compiler_directives={"boundscheck": False, "wraparound": False})


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})

"""The version of lambdascope (one place: the package and the guard's analysis file read it)."""

__version__ = "0.1.0.dev0"

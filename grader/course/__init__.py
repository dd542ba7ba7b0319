"""The course as data: its labs (``labs/*/lab.toml``), their starters, the checks'
metadata read without importing them, ``grader dev check``, and the MkDocs hook that
builds pages from the grader itself."""

from grader.course.labs import Course, Hint, Lab, find_root, load_course

__all__ = ["Course", "Hint", "Lab", "find_root", "load_course"]

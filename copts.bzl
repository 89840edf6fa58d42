"""Compiler flags for taskfarm's own C code (STYLE.md)."""

C_OPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
]

TEST_OPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
]

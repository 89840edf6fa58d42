"""Compiler flags for taskfarm's own C code: every warning is an error."""

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

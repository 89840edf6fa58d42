"""Compiler flags for taskfarm's own C code: every warning is an error.

Under the sanitizer configs (--config=asan, --config=tsan in .bazelrc, which
set --define sanitize=...) -Werror yields: gcc's instrumentation changes
what its flow analysis sees and warns where the plain build does not
(docs/sanitizers.md). The warnings are still printed.
"""

_WERROR = select({
    "//:asan": [],
    "//:tsan": [],
    "//conditions:default": ["-Werror"],
})

C_OPTS = [
    "-Wall",
    "-Wextra",
] + _WERROR

TEST_OPTS = [
    "-Wall",
    "-Wextra",
] + _WERROR

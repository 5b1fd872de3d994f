#!/usr/bin/python3
"""One round-trip case for tests/test_converter.cpp, in one interpreter.

    round_trip_case.py DIR SIZE CONVERTER_ARGS...

runs tools/convert_torchvision.py's command line with CONVERTER_ARGS and
`--out DIR/w.h5`, then tools/reference_logits.py's with `--weights DIR/w.h5
--out DIR/ref.h5 --batch 2 --size SIZE --seed 5`. Both are the tools' own
main(argv), argument parsing included; running them in one process pays for
importing torch once, which is most of a small case's time. Exit status: the
first non-zero one of the two.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import convert_torchvision  # noqa: E402
import reference_logits  # noqa: E402


def main(argv):
    directory, size, converter_args = argv[0], argv[1], argv[2:]
    weights, ref = os.path.join(directory, "w.h5"), os.path.join(directory, "ref.h5")
    status = convert_torchvision.main(converter_args + ["--out", weights])
    if status:
        return status
    return reference_logits.main(["--weights", weights, "--out", ref, "--batch", "2",
                                  "--size", size, "--seed", "5"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

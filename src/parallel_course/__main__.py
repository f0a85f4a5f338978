"""Command line: ``python -m parallel_course check | bench | exercises``."""

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m parallel_course", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="check that this machine is ready for the course")
    bench = commands.add_parser("bench", help="measure scaling and per-task overhead here")
    bench.add_argument("--workload", choices=["cpu", "numpy", "io"], default="cpu")
    bench.add_argument("--backend", choices=["serial", "threads", "processes"], default="processes")
    bench.add_argument("--max-workers", type=int, default=None)
    exercises = commands.add_parser("exercises", help="regenerate exercises/ from solutions/ (for authors)")
    exercises.add_argument("--root", type=Path, default=Path.cwd(), help="the course's folder")
    args = parser.parse_args(argv)

    try:
        if args.command == "check":
            from parallel_course.tools import setup_check

            return setup_check.main()
        if args.command == "bench":
            from parallel_course.tools import bench as bench_module

            return bench_module.main(args.workload, args.backend, args.max_workers)
        from parallel_course.tools import authoring

        for path in authoring.write_exercises(args.root / "solutions", args.root / "exercises"):
            print(f"wrote {path}")
        return 0
    except (ValueError, TypeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""The command-line tools behind `python -m parallel_course`: setup check, benchmark, exercise generator."""

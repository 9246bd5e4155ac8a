"""``main.py predict`` (placeholder until the Run panel's services land)."""


def register(subparsers) -> None:
    parser = subparsers.add_parser("predict", help="run a task on texts and print JSON lines")
    parser.set_defaults(handler=lambda args: 1)

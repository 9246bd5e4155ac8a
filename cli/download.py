"""``main.py [--library DIR] download REPO_ID [--revision R] [--name NAME]``: fetch a Hub model into the library."""

from __future__ import annotations


def register(subparsers) -> None:
    parser = subparsers.add_parser("download", help="download a model from the Hugging Face Hub into the library")
    parser.add_argument("repo_id", help="e.g. dslim/bert-base-NER")
    parser.add_argument("--revision", default="main", help="branch, tag or commit (default: main)")
    parser.add_argument("--name", help="name in the library (default: the repository's name)")
    parser.set_defaults(handler=download_command)


def download_command(args) -> int:
    from cli.progress import StderrProgress
    from services.library.hub_download import download_model

    bar = StderrProgress(args.repo_id.rsplit("/", 1)[-1][:24])
    try:
        path = download_model(args.repo_id, args.revision, name=args.name, progress=bar)
    finally:
        bar.close()
    print(path)
    return 0

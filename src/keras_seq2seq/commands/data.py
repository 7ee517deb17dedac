"""`seq2seq data download PAIR --to DIR` and `seq2seq data split FILE --to DIR`.

    seq2seq data download spa-eng --to data/spa-eng     # fetch, unpack, split (needs the network)
    seq2seq data split spa.txt --to data/spa-eng          # split a pair file you already have

Both write train.tsv, dev.tsv, test.tsv and held-out.tsv the way ../shared/data was split
(de-duplication, a shuffle seeded with 743, 2,000 lines each for dev, test and held-out; see
`keras_seq2seq.data.splits`), so the same file always gives the same splits.
"""

from __future__ import annotations


from keras_seq2seq.commands.options import HelpFormatter, whole_number
from keras_seq2seq.data.splits import DEV_SIZE, HELD_OUT_SIZE, SEED, TEST_SIZE


def register(commands, command) -> None:
    data = command(commands, "data", run_data, "download a Tatoeba/Anki pair archive, or split a pair file")
    actions = data.add_subparsers(dest="data_action", metavar="ACTION", required=True)

    download = actions.add_parser(
        "download", formatter_class=HelpFormatter,
        help="fetch PAIR.zip from manythings.org, unpack it into DIR and split it",
        description="Fetch a Tatoeba/Anki sentence-pair archive (www.manythings.org/anki and "
                    "tatoeba.org, CC BY 2.0 FR), unpack it into DIR and write deterministic splits.")
    download.add_argument("pair", metavar="PAIR", help="manythings.org pair name, e.g. spa-eng, fra-eng, cmn-eng")
    download.add_argument("--to", required=True, metavar="DIR", help="directory for the archive and the splits")
    download.add_argument("--url", metavar="URL",
                          help="where to fetch from: a base URL (PAIR.zip is appended) or a .zip URL; "
                               "default https://www.manythings.org/anki/")
    download.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the server")
    _add_split_options(download)

    split = actions.add_parser(
        "split", formatter_class=HelpFormatter,
        help="split a pair file into train/dev/test (dedup, seeded shuffle)",
        description="Split a tab-separated pair file (e.g. spa.txt from manythings.org) into "
                    "train.tsv, dev.tsv, test.tsv and held-out.tsv: exact duplicate pairs dropped, "
                    "a seeded shuffle, fixed sizes. The same file and options give the same files.")
    split.add_argument("file", metavar="FILE", help="tab-separated pairs, e.g. english<TAB>other")
    split.add_argument("--to", required=True, metavar="DIR", help="directory for the split files")
    _add_split_options(split)


def _add_split_options(parser) -> None:
    _count = whole_number(0)
    group = parser.add_argument_group("splitting")
    group.add_argument("--dev-size", type=_count, default=DEV_SIZE, help="lines in dev.tsv")
    group.add_argument("--test-size", type=_count, default=TEST_SIZE, help="lines in test.tsv")
    group.add_argument("--held-out-size", type=_count, default=HELD_OUT_SIZE,
                       help="lines set aside in held-out.tsv (0: none)")
    group.add_argument("--seed", type=int, default=SEED, help="shuffle seed")


def run_data(args) -> int:
    return run_download(args) if args.data_action == "download" else run_split(args)


def run_download(args) -> int:
    from keras_seq2seq.data.download import ProgressBar, archive_url, download_pair

    url = archive_url(args.pair, args.url)
    print(f"downloading {url}")
    bar = ProgressBar(args.pair)
    try:
        pair_file = download_pair(args.pair, args.to, args.url, bar, args.timeout)
    finally:
        if bar.last[0]:
            bar.close()
    print(f"unpacked {pair_file}")
    _split(pair_file, args)
    about = pair_file.parent / "_about.txt"
    print("Tatoeba sentences are CC BY 2.0 FR; attribute \"www.manythings.org/anki and tatoeba.org\""
          + (f" (see {about})" if about.is_file() else ""))
    return 0


def run_split(args) -> int:
    _split(args.file, args)
    return 0


def _split(path, args) -> None:
    from keras_seq2seq.data.splits import split_file

    report = split_file(path, args.to, args.dev_size, args.test_size, args.held_out_size, args.seed)
    print(f"{path}: {report.summary()} (seed {args.seed})")
    for name, file in report.files.items():
        print(f"  {file}  {report.sizes[name]:,} lines")

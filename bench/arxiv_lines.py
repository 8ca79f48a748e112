"""The arxiv-daily corpus for the bench scripts: its path, and its lines."""
import lzma
import os


def arxiv_lines(path=None):
    """The non-blank JSON lines of `path` (default $PAPERSIM_DATA_DIR/arxiv-daily/...,
    i.e. ../shared/data/...), or None after a message when the file is absent."""
    path = path or os.path.join(
        os.environ.get("PAPERSIM_DATA_DIR", "../shared/data"), "arxiv-daily", "arxiv-daily.jsonl.xz")
    if not os.path.exists(path):
        print(f"skip: {path} not found (set PAPERSIM_DATA_DIR to ../shared/data)")
        return None
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [l if l.endswith("\n") else l + "\n" for l in f if l.strip()]

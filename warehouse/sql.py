"""`python -m warehouse.sql`: plain SQL on the published marts, never blocking a build.

    python -m warehouse.sql                      # interactive: statements end with ;
    python -m warehouse.sql -c "select ..."      # one statement, then exit

Opens the published catalog (`<warehouse>.marts.duckdb`, warehouse.published)
read-only; each statement reads the latest published version. The DuckDB CLI
works on the same file: `duckdb -readonly data/warehouse.marts.duckdb`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator

import duckdb

from warehouse import published
from warehouse.cli import Parser
from warehouse.database import WarehousePathError, resolve_db_path

PROMPT, CONTINUE = "marts> ", "   ...> "


class Session:
    """A read-only connection that follows the published catalog: when a build
    publishes a new version, the next statement reads it."""

    def __init__(self, db_path):
        self.db_path, self.con, self.identity = db_path, None, None

    def run(self, statement: str) -> None:
        path = published.catalog_path(self.db_path)
        identity = os.stat(path).st_ino if path.exists() else None
        if self.con is None or identity != self.identity:
            if self.con is not None:
                self.con.close()
            self.con, self.identity = published.connect(self.db_path), identity
        relation = self.con.sql(statement)
        if relation is not None:
            relation.show(max_rows=40, max_width=160)


def statements(lines: Iterable[str]) -> Iterator[str]:
    """Complete statements (ending with ;) read from interactive or piped input."""
    buffer = []
    for line in lines:
        if line.strip() in (".quit", ".exit") and not buffer:
            return
        buffer.append(line)
        if line.rstrip().endswith(";"):
            yield "\n".join(buffer)
            buffer = []
    if "".join(buffer).strip():
        yield "\n".join(buffer)


def _prompted() -> Iterator[str]:
    prompt = PROMPT
    while True:
        try:
            line = input(prompt)
        except EOFError:
            return
        prompt = PROMPT if line.rstrip().endswith(";") else CONTINUE
        yield line


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m warehouse.sql", description=__doc__.splitlines()[0])
    parser.add_db_option()
    parser.add_argument("-c", "--command", help="run this statement and exit")
    args = parser.parse_args(argv)
    try:
        session = Session(resolve_db_path(args.db))
    except WarehousePathError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.command:
        todo = [args.command]
    else:
        todo = statements(_prompted() if sys.stdin.isatty() else sys.stdin.read().splitlines())
    status = 0
    for statement in todo:
        try:
            session.run(statement)
        except (published.PublishedError, duckdb.Error) as error:
            print(f"error: {str(error).splitlines()[0]}", file=sys.stderr)
            status = 1
            if isinstance(error, published.PublishedError):
                return status
    return status


if __name__ == "__main__":
    raise SystemExit(main())

"""`python -m featurestore`: write customer_snapshots.yml and the docs' column table
from the feature catalog (`make catalog`); `--check` only reports what is stale."""

from __future__ import annotations

import sys

from featurestore.catalog import REPO, CatalogError
from featurestore.render import outputs
from warehouse.cli import Parser


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m featurestore", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when a file is stale"
    )
    args = parser.parse_args(argv)
    try:
        generated = outputs()
    except CatalogError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    stale = [
        path for path, text in generated.items() if not path.exists() or path.read_text() != text
    ]
    for path in stale:
        name = path.relative_to(REPO)
        if args.check:
            print(f"stale: {name} (run `make catalog`)", file=sys.stderr)
        else:
            path.write_text(generated[path])
            print(f"wrote {name} from the feature catalog")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())

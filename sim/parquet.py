"""Reading one Parquet file, without pyarrow's dataset layer.

`pyarrow.parquet.read_table` and `pandas.read_parquet` go through
`pyarrow.dataset`, which every `zjsim run` imported to read the posterior and
its own parts: 0.06 s beyond what a run imports anyway (0.25 s with the
pyarrow modules it shares).  A run folder's tables are single files, which
`ParquetFile` reads as well; and it refuses a directory in a file's place
instead of reading every Parquet file under it as one table.
"""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def read_parquet(path: str | Path) -> pa.Table:
    """The table in one Parquet file (errors as pyarrow raises them: OSError,
    ValueError for a file that is not Parquet)."""
    with pq.ParquetFile(path) as parquet_file:
        return parquet_file.read()

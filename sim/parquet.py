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


def read_parquet(source: str | Path | bytes) -> pa.Table:
    """The table in one Parquet file, or in its bytes already read (errors as
    pyarrow raises them: OSError, ValueError for data that is not Parquet)."""
    if isinstance(source, bytes):
        source = pa.BufferReader(source)
    with pq.ParquetFile(source) as parquet_file:
        return parquet_file.read()

"""Reading the field's pickles (3DPW's sequence files, mmpose's cameras.pkl, VideoPose3D's npz)
without letting them run code: an unpickler that builds only numpy arrays, numpy scalars and
plain containers, and refuses any other global with one line naming the file."""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npy_format

from sa3dhp.convert.mocap import ConvertError

#: The only globals a data pickle may name: how numpy pickles arrays, dtypes and scalars.
ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("collections", "OrderedDict"),
}


class _Restricted(pickle.Unpickler):
    def __init__(self, file: Any, name: str, **kwargs: Any) -> None:
        super().__init__(file, **kwargs)
        self.name = name

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in ALLOWED:
            return super().find_class(module, name)
        raise ConvertError(
            f"{self.name}: the pickle asks for {module}.{name}; only numpy arrays and plain "
            "containers are read (a data file with code in it is refused)"
        )


def load_pickle(path: str | Path, encoding: str = "latin1") -> Any:
    """Unpickle ``path`` with :class:`_Restricted` (``latin1`` reads Python 2 pickles).

    Raises:
        ConvertError: missing, truncated or not a pickle, or a pickle naming other globals.
    """
    path = Path(path)
    try:
        with path.open("rb") as f:
            return _Restricted(f, str(path), encoding=encoding).load()
    except ConvertError:
        raise
    except FileNotFoundError:
        raise ConvertError(f"{path}: no such file") from None
    except Exception as e:
        raise ConvertError(f"{path}: not a readable pickle ({type(e).__name__})") from None


def load_npz_objects(path: str | Path) -> dict[str, Any]:
    """Every array of an ``.npz`` file, object arrays (pickled dicts) unpickled with
    :class:`_Restricted` (``numpy.load(allow_pickle=True)`` would run any code they hold)."""
    path = Path(path)
    out: dict[str, Any] = {}
    try:
        with zipfile.ZipFile(path) as z:
            for member in z.namelist():
                with z.open(member) as f:
                    data = io.BytesIO(f.read())
                version = npy_format.read_magic(data)
                read_header = (
                    npy_format.read_array_header_1_0
                    if version == (1, 0)
                    else npy_format.read_array_header_2_0
                )
                _, _, dtype = read_header(data)
                key = member.removesuffix(".npy")
                if dtype.hasobject:
                    out[key] = _Restricted(data, f"{path}:{key}", encoding="latin1").load()
                else:
                    data.seek(0)
                    out[key] = np.load(data, allow_pickle=False)
    except ConvertError:
        raise
    except FileNotFoundError:
        raise ConvertError(f"{path}: no such file") from None
    except Exception as e:
        raise ConvertError(f"{path}: not a readable .npz file ({type(e).__name__})") from None
    return out

"""Readers for the files `pliant run` writes, independent of Pliant's own code.

Shared by check_outputs.py and check_interrupted_run.py.  Only the Python
standard library and NumPy are used, so a mistake in Pliant's writers cannot
hide in a reader that shares code with them.
"""
import struct
import zlib

import numpy as np

PLY_TYPES = {"char": "i1", "uchar": "u1", "short": "i2", "ushort": "u2", "int": "i4",
             "uint": "u4", "float": "f4", "double": "f8"}


class Truncated(Exception):
    """A file that ends before its header says it should."""


def read_ply(path):
    """Parses a binary little-endian PLY with one 'vertex' element.

    Returns (structured NumPy array, header dict with 'comments').  Raises
    Truncated if the data is shorter (or longer) than the header promises, and
    ValueError for anything that is not such a PLY.
    """
    with open(path, "rb") as f:
        data = f.read()
    end = data.find(b"end_header\n")
    if not data.startswith(b"ply\n") or end < 0:
        raise Truncated(f"{path}: no complete PLY header")
    header_lines = data[:end].decode("ascii").splitlines()
    if header_lines[1] != "format binary_little_endian 1.0":
        raise ValueError(f"{path}: unexpected format line {header_lines[1]!r}")
    count, fields, comments = None, [], []
    for line in header_lines[2:]:
        words = line.split()
        if words[0] == "comment":
            comments.append(line[len("comment "):])
        elif words[0] == "element":
            if words[1] != "vertex":
                raise ValueError(f"{path}: unexpected element {words[1]}")
            count = int(words[2])
        elif words[0] == "property":
            fields.append((words[2], "<" + PLY_TYPES[words[1]]))
    dtype = np.dtype(fields)
    body = data[end + len(b"end_header\n"):]
    if count is None or len(body) != count * dtype.itemsize:
        raise Truncated(f"{path}: {len(body)} data bytes, the header promises {count} x {dtype.itemsize}")
    return np.frombuffer(body, dtype=dtype, count=count), {"comments": comments}


def read_png_rgb(path):
    """Decodes an 8-bit RGB, non-interlaced PNG (every chunk's CRC checked).

    Returns a (height, width, 3) uint8 array.
    """
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat, width, height, types = 8, b"", None, None, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        ctype = data[pos + 4:pos + 8]
        chunk = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(ctype + chunk) != crc:
            raise ValueError(f"{path}: bad CRC in {ctype!r}")
        types.append(ctype)
        if ctype == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            if (depth, color, interlace) != (8, 2, 0):
                raise ValueError(f"{path}: not 8-bit RGB non-interlaced")
        elif ctype == b"IDAT":
            idat += chunk
        pos += 12 + length
    if types[0] != b"IHDR" or types[-1] != b"IEND":
        raise ValueError(f"{path}: chunks {types}")
    raw = zlib.decompress(idat)
    stride = width * 3
    if len(raw) != height * (stride + 1):
        raise ValueError(f"{path}: {len(raw)} bytes of scanlines for {width} x {height}")
    image = np.zeros((height, stride), dtype=np.int32)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=y * (stride + 1) + 1).astype(np.int32)
        # PNG spec sec. 9.2.  None, Sub and Up vectorize; Average and Paeth run per byte.
        if ftype == 0:
            out = line
        elif ftype == 1:
            out = np.cumsum(line.reshape(width, 3), axis=0).reshape(stride) & 0xFF
        elif ftype == 2:
            out = (line + prev) & 0xFF
        elif ftype in (3, 4):
            out = np.zeros(stride, dtype=np.int32)
            for i in range(stride):
                a = out[i - 3] if i >= 3 else 0
                b = prev[i]
                c = prev[i - 3] if i >= 3 else 0
                if ftype == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                out[i] = (line[i] + pred) & 0xFF
        else:
            raise ValueError(f"{path}: filter type {ftype}")
        image[y] = out
        prev = out
    return image.reshape(height, width, 3).astype(np.uint8)

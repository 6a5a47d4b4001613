#!/usr/bin/env python3
"""Writes tricky.csv and tricky.json, the fixture CSVReaderTests compares against.

tricky.csv is hand-written tricky records followed by seeded random ones. tricky.json is what
Python's csv module (strict=True) reads from it: a list of {"line": first physical line,
"fields": [...]}, with empty lines left out as pandas (and CSVReader) skip them.
The text has no lone CR: Python splits lines on it, CSVReader treats it as data.

Run from anywhere with python3 (stdlib only); the output is deterministic.
"""

import csv
import io
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))

HAND_WRITTEN = (
    "name,note,count\n"
    'plain,"with, comma",1\n'
    '"doubled ""quotes"" inside",x,2\n'
    '"multi\nline\nfield",after,3\n'
    '"crlf\r\ninside",y,4\r\n'
    ",,\n"
    '"","",""\n'
    "\n"
    "\r\n"
    'mid"quote,ab"c"d,""""\n'
    '"",x,\n'
    "ünïcödé,€,😀\n"
    '"😀,\n""é""",x,5\n'
    '"""",""""""," "\n'
    ' "leading space",x ,6\n'
    "single\n"
    '"single quoted"\n'
    '""\n'
    "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p\n"
)

# Pieces a random field is made of; none is a lone CR.
PIECES = ["a", "b", "xyz", "12", " ", ",", '"', "\n", "\r\n", "é", "€", "😀", "\t", ";"]


def random_field(rng):
    text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 6)))
    needs_quotes = any(c in text for c in ',"\r\n') or rng.random() < 0.2
    if text.startswith('"'):
        needs_quotes = True  # Unquoted, a leading quote would open a quoted field.
    if needs_quotes:
        return '"' + text.replace('"', '""') + '"'
    return text


def random_records(rng, count):
    out = []
    for _ in range(count):
        fields = [random_field(rng) for _ in range(rng.randint(1, 5))]
        if fields == [""]:
            fields = ['""']  # An empty line would be skipped, not a record.
        out.append(",".join(fields) + rng.choice(["\n", "\n", "\r\n"]))
        if rng.random() < 0.05:
            out.append(rng.choice(["\n", "\r\n"]))  # An empty line, skipped.
    return "".join(out)


def main():
    rng = random.Random(4180)
    text = HAND_WRITTEN + random_records(rng, 300) + "last,record,without,newline"

    rows = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        first_line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        if fields:
            rows.append({"line": first_line, "fields": fields})

    with open(os.path.join(HERE, "tricky.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(text)
    with open(os.path.join(HERE, "tricky.json"), "w", encoding="utf-8") as f:
        f.write("[\n" + ",\n".join(json.dumps(row) for row in rows) + "\n]\n")


if __name__ == "__main__":
    main()

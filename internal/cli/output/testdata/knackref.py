#!/usr/bin/env python3
"""Renders testdata/cases.json with the real knack formatters.

This is the reference the golden files were checked against; it is not run
by `go test`. It needs knack's sources (github.com/microsoft/knack, the
knack/ directory on PYTHONPATH) and the libraries knack's formatters use:
jmespath, PyYAML, Pygments, tabulate and wcwidth (Debian: python3-jmespath
python3-yaml python3-pygments python3-tabulate python3-wcwidth).

    PYTHONPATH=/path/to/knack python3 testdata/knackref.py OUTDIR [CASES.json]
    diff -r OUTDIR testdata/golden

With another cases file (same layout as cases.json), compare with what the
Go code renders for it:

    KNACKREF_CASES=CASES.json KNACKREF_OUT=GODIR go test -run TestReference
    diff -r OUTDIR GODIR

For each case it mimics knack's CLI.invoke: the query is applied with
Options(dict_cls=OrderedDict), nothing is printed for a None result, and
jsonc/yamlc are rendered with colour (a terminal).
"""

import json
import os
import sys
from collections import OrderedDict

import jmespath
from knack.output import (format_json, format_json_color, format_none,
                          format_table, format_tsv, format_yaml,
                          format_yaml_color)
from knack.query import CLIQuery
from knack.util import CommandResultItem

FORMATTERS = {
    'json': format_json,
    'jsonc': format_json_color,
    'yaml': format_yaml,
    'yamlc': format_yaml_color,
    'table': format_table,
    'tsv': format_tsv,
    'none': format_none,
}


def group_row(r):
    return OrderedDict([('Name', r['name']), ('Location', r['location']),
                        ('Status', r['properties']['provisioningState'])])


TRANSFORMERS = {
    'group_list': lambda result: [group_row(r) for r in result],
    'group_show': group_row,
}


def render(data, fmt, query=None, transformer=None):
    active = False
    if query is not None:
        try:
            compiled = CLIQuery.jmespath_type(query)
        except ValueError:
            return 'error: argument --query: invalid jmespath_type value: %r\n' % query
        try:
            data = compiled.search(data, jmespath.Options(OrderedDict))
        except jmespath.exceptions.JMESPathError as ex:
            return 'error: %s\n' % ex
        active = True
    if data is None:
        return ''
    item = CommandResultItem(data, table_transformer=TRANSFORMERS.get(transformer),
                             is_query_active=active)
    try:
        return FORMATTERS[fmt](item)
    except Exception as ex:  # pylint: disable=broad-except
        return 'error: %s\n' % ex


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, 'cases.json')
    with open(path, encoding='utf-8') as f:
        spec = json.load(f)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for case in spec['cases']:
        data = json.loads(json.dumps(spec['inputs'][case['input']]))
        for fmt in FORMATTERS:
            text = render(json.loads(json.dumps(data)), fmt, case.get('query'), case.get('transformer'))
            with open(os.path.join(out, '%s.%s' % (case['name'], fmt)), 'w', encoding='utf-8',
                      newline='') as f:
                f.write(text)


if __name__ == '__main__':
    main()

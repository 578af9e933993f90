#!/usr/bin/env python3
"""scdoc IN OUT, then tidy the paragraph macros scdoc 1.11 puts where they
do nothing: dropped after a heading, before a heading and twice in a row;
moved after the end of an indented block. mandoc -T lint warns about each
('skipping paragraph macro'), and tests/docs/mandoc-lint.sh wants none."""
import subprocess
import sys

src, dst = sys.argv[1], sys.argv[2]
with open(src, 'rb') as f:
    roff = subprocess.run(['scdoc'], stdin=f, stdout=subprocess.PIPE,
                          check=True).stdout.decode()
lines = roff.split('\n')
# ".P .RE": the break belongs after the indented block, between entries
changed = True
while changed:
    changed = False
    for i in range(len(lines) - 1):
        if lines[i] == '.P' and lines[i + 1] == '.RE':
            lines[i], lines[i + 1] = '.RE', '.P'
            changed = True
HEAD = ('.SH', '.SS', '.TH')


def macro(line):
    return line.split(' ', 1)[0] if line.startswith('.') else None


out = []
for i, line in enumerate(lines):
    if line == '.P':
        nxt = next((x for x in lines[i + 1:] if x != '.P'), '')
        prev = out[-1] if out else ''
        if (macro(prev) in HEAD + ('.P', '.RS')
                or macro(nxt) in HEAD + ('.RE',)
                or nxt == ''):
            continue
    out.append(line)
with open(dst, 'w') as f:
    f.write('\n'.join(out))

#!/usr/bin/python3
"""Reads a Prometheus text exposition on stdin with the real parser (Debian's
python3-prometheus-client) and prints what it understood, one line each, sorted:
  family <name> <type> <help>
  sample <name> <label>=<value>,... <value>
Exits 2 with the parser's message if the text does not parse."""
import sys

from prometheus_client.parser import text_string_to_metric_families

text = sys.stdin.read()
lines = []
try:
    for family in text_string_to_metric_families(text):
        lines.append(f"family {family.name} {family.type} {family.documentation}")
        for s in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            lines.append(f"sample {s.name} {labels} {s.value!r}")
except Exception as e:  # the parser raises ValueError (and others) on bad input
    print(f"parse error: {e}", file=sys.stderr)
    sys.exit(2)
print("\n".join(sorted(lines)))
